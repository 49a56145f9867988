import { createHash } from 'node:crypto';

// Built once: toLocaleString with options builds a formatter on every call, which
// dominated the time of a page with tens of thousands of cells.
const USD = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const COUNT = new Intl.NumberFormat('en-US');

/** Dollars from an exact decimal string; null (no priced row) is never shown as $0. */
export function formatUsd(value: string | null, unpricedText = '—'): string {
  if (value === null) return unpricedText;
  const amount = Number(value);
  if (amount !== 0 && Math.abs(amount) < 0.01) return `${amount < 0 ? '-' : ''}<$0.01`;
  return USD.format(amount);
}

/** Dollars with the digits a single call needs ($0.0042); never rounds a small cost to <$0.01. */
export function formatUsdPrecise(value: string | null, unpricedText = '—'): string {
  if (value === null) return unpricedText;
  const amount = Number(value);
  if (Math.abs(amount) >= 1 || amount === 0) return formatUsd(value, unpricedText);
  // Two significant digits, at most six decimals.
  const digits = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(amount)))));
  return `${amount < 0 ? '-' : ''}$${Math.abs(amount).toFixed(digits)}`;
}

/** Token counts; null means the source does not report this number. */
export function formatCount(value: number | null): string {
  return value === null ? '–' : COUNT.format(value);
}

export function formatPercent(value: number | null, digits = 1): string {
  return value === null ? '–' : `${(value * 100).toFixed(digits)} %`;
}

/**
 * api_key holds an id or alias, never a secret (invariant 13), but ids are
 * still not for every screen: shown as the last four characters and a short
 * digest, enough to tell keys apart and match them in the provider's console.
 */
export function maskKey(value: string): string {
  if (value === '') return '';
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 6);
  return value.length <= 8 ? `key #${digest}` : `…${value.slice(-4)} #${digest}`;
}

/** Adds exact decimal strings (NUMERIC from the store) without floating-point drift. */
export function addDecimals(values: readonly (string | null)[]): string | null {
  // Two passes without intermediate arrays: pages add tens of thousands of these.
  let scale = -1;
  for (const value of values) {
    if (value === null) continue;
    const dot = value.indexOf('.');
    const digits = dot < 0 ? 0 : value.length - dot - 1;
    if (digits > scale) scale = digits;
  }
  if (scale < 0) return null;
  let total = 0n;
  for (const value of values) if (value !== null) total += toScaled(value, scale);
  return fromScaled(total, scale);
}

function toScaled(value: string, scale: number): bigint {
  const sign = value.charCodeAt(0);
  const negative = sign === 45; // '-'
  const body = negative || sign === 43 ? value.slice(1) : value;
  const dot = body.indexOf('.');
  const whole = dot < 0 ? body : body.slice(0, dot);
  const fraction = dot < 0 ? '' : body.slice(dot + 1);
  const scaled = BigInt((whole === '' ? '0' : whole) + fraction.padEnd(scale, '0'));
  return negative ? -scaled : scaled;
}

function fromScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? digits.slice(digits.length - scale).replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
