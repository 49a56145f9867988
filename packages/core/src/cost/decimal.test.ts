import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDecimals, formatScaledInteger, toScaledInteger } from './decimal';

describe('toScaledInteger', () => {
  it('reads decimal strings exactly', () => {
    expect(toScaledInteger('3', 6)).toBe(3_000_000n);
    expect(toScaledInteger('0.075', 6)).toBe(75_000n);
    expect(toScaledInteger('.5', 2)).toBe(50n);
    expect(toScaledInteger('5.', 2)).toBe(500n);
    expect(toScaledInteger(' 1.25 ', 2)).toBe(125n);
    expect(toScaledInteger('-1.25', 2)).toBe(-125n);
    expect(toScaledInteger('1.2500', 2)).toBe(125n);
  });

  it('reads numbers through a plain decimal form, never exponent notation', () => {
    expect(toScaledInteger(0.075)).toBe(75_000_000_000n);
    expect(toScaledInteger(3)).toBe(3_000_000_000_000n);
    expect(toScaledInteger(1e-7)).toBe(100_000n);
    expect(toScaledInteger(0.1 + 0.2)).toBe(300_000_000_000n);
  });

  it('refuses what is not a decimal, or has more digits than the scale keeps', () => {
    for (const bad of ['', '-', '.', 'abc', '1.2.3', '1e3', '1,5', '+1']) {
      expect(() => toScaledInteger(bad), bad).toThrow(RangeError);
    }
    expect(() => toScaledInteger('0.123', 2)).toThrow(/more than 2 decimals/);
    expect(() => toScaledInteger(Number.NaN)).toThrow(RangeError);
    expect(() => toScaledInteger(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('formatScaledInteger', () => {
  it('writes a plain decimal without trailing zeros', () => {
    expect(formatScaledInteger(3_703_701_000_000_000_000n, 18)).toBe('3.703701');
    expect(formatScaledInteger(5n, 2)).toBe('0.05');
    expect(formatScaledInteger(-5n, 2)).toBe('-0.05');
    expect(formatScaledInteger(0n, 18)).toBe('0');
    expect(formatScaledInteger(1200n, 2)).toBe('12');
    expect(formatScaledInteger(42n, 0)).toBe('42');
  });
});

describe('addDecimals', () => {
  it('adds exactly where binary floating point does not', () => {
    expect(addDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(addDecimals(['0.000000000000000001', '0.999999999999999999'])).toBe('1');
    expect(addDecimals([])).toBe('0');
    expect(addDecimals(['1.5', '-0.25'])).toBe('1.25');
  });
});

describe('decimal properties', () => {
  it('format then parse round-trips every scaled integer', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (value, decimals) => {
        const text = formatScaledInteger(value, decimals);
        expect(text).toMatch(/^-?\d+(\.\d*[1-9])?$/);
        expect(toScaledInteger(text, decimals)).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('addDecimals is the sum of the parts', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 24n }), { maxLength: 10 }), (parts) => {
        const total = parts.reduce((a, b) => a + b, 0n);
        expect(addDecimals(parts.map((part) => formatScaledInteger(part, 18)))).toBe(formatScaledInteger(total, 18));
      }),
      { numRuns: 200 },
    );
  });
});
