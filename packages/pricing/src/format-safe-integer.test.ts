import { formatScaledInteger } from '@utt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSafeInteger } from './price-usage';

describe('formatSafeInteger', () => {
  it('writes a safe integer of 10^-decimals units exactly as formatScaledInteger writes the BigInt', () => {
    const values = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.maxSafeNat(), fc.constantFrom(0, 1, 10, 100, 1_000_000, 2 ** 53 - 1, 10 ** 15, 10 ** 15 + 1));
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 30 }), (value, decimals) => {
        expect(formatSafeInteger(value, decimals)).toBe(formatScaledInteger(BigInt(value), decimals));
      }),
      { numRuns: 20_000 },
    );
  });
});
