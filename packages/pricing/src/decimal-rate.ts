import { formatScaledInteger, toScaledInteger } from '@utt/core';

const RATE_DECIMALS = 12;

/**
 * A registry number (0.075) or config value as a canonical decimal string.
 * Registry data is JSON numbers; reading them through a fixed number of
 * decimals keeps 0.1 + 0.2 style noise out of every later sum.
 */
export function toDecimalRate(value: number | string, where: string): string {
  try {
    const scaled = toScaledInteger(value, RATE_DECIMALS);
    if (scaled < 0n) throw new RangeError('is negative');
    return formatScaledInteger(scaled, RATE_DECIMALS);
  } catch (error) {
    throw new RangeError(`${where}: ${(error as Error).message}`);
  }
}
