import { createHash } from 'node:crypto';

/** Dollars from an exact decimal string; null (no priced row) is never shown as $0. */
export function formatUsd(value: string | null, unpricedText = '—'): string {
  if (value === null) return unpricedText;
  const amount = Number(value);
  if (amount !== 0 && Math.abs(amount) < 0.01) return `${amount < 0 ? '-' : ''}<$0.01`;
  return amount.toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
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
  return value === null ? '–' : value.toLocaleString('en-US');
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
  const present = values.filter((value): value is string => value !== null);
  if (present.length === 0) return null;
  const scale = Math.max(...present.map((value) => (value.split('.')[1] ?? '').length));
  let total = 0n;
  for (const value of present) total += toScaled(value, scale);
  return fromScaled(total, scale);
}

function toScaled(value: string, scale: number): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^[-+]/, '').split('.');
  const scaled = BigInt(whole + fraction.padEnd(scale, '0'));
  return negative ? -scaled : scaled;
}

function fromScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? digits.slice(digits.length - scale).replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
