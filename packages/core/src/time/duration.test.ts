import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    ['250ms', 250],
    ['15s', 15_000],
    ['90m', 5_400_000],
    ['24h', 86_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5h', 5_400_000],
    ['  5m ', 300_000],
    ['0s', 0],
    [1000, 1000],
    [0, 0],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads "ms" as milliseconds, not minutes followed by seconds', () => {
    expect(parseDuration('5ms')).toBe(5);
    expect(parseDuration('5m5s')).toBe(305_000);
  });

  it('refuses a bare number in text, naming the units', () => {
    expect(() => parseDuration('5')).toThrow('invalid duration "5": give a unit (ms, s, m, h, d or w), e.g. 5m or 5s');
  });

  it.each(['', '   ', 'abc', '5x', '15 s', '1h 30m', '-5s', '1h30', 'h', '5S', '1e3', '.5h', '1h-', 'ms'])(
    'refuses %j with a RangeError that shows the accepted forms',
    (text) => {
      expect(() => parseDuration(text)).toThrow(RangeError);
      expect(() => parseDuration(text)).toThrow(/invalid duration/);
    },
  );

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the number %d', (value) => {
    expect(() => parseDuration(value)).toThrow(RangeError);
  });
});
