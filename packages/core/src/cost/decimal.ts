/**
 * Exact decimal arithmetic for money, on bigint. Prices have at most
 * PRICE_SCALE decimals; costs keep every digit (NUMERIC in the database), so a
 * sum of costs is the cost of the sum.
 */
const PRICE_DECIMALS = 12;

/** A decimal string or number as an integer count of 10^-decimals units. */
export function toScaledInteger(value: string | number, decimals = PRICE_DECIMALS): bigint {
  const text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  const match = /^(-)?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new RangeError(`not a decimal number: "${text}"`);
  const fraction = (match[3] ?? '').padEnd(decimals, '0');
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals))) {
    throw new RangeError(`"${text}" has more than ${decimals} decimals`);
  }
  const magnitude = BigInt((match[2] || '0') + fraction.slice(0, decimals));
  return match[1] ? -magnitude : magnitude;
}

/** An integer count of 10^-decimals units as a plain decimal string without trailing zeros. */
export function formatScaledInteger(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Adds decimal strings exactly. */
export function addDecimals(values: readonly string[], decimals = 18): string {
  let total = 0n;
  for (const value of values) total += toScaledInteger(value, decimals);
  return formatScaledInteger(total, decimals);
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  // toFixed gives the shortest exact-looking form for prices such as 0.075 and avoids 1e-7 notation.
  return value.toFixed(PRICE_DECIMALS);
}
