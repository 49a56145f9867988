import { describe, expect, it } from 'vitest';
import { centsToDollars } from './convert-anthropic-costs';

describe('centsToDollars', () => {
  it('moves the decimal point two places and keeps every digit', () => {
    expect(centsToDollars('123.45')).toBe('1.2345');
    expect(centsToDollars('4821.337')).toBe('48.21337');
    expect(centsToDollars('5')).toBe('0.05');
    expect(centsToDollars('0')).toBe('0');
    expect(centsToDollars('100')).toBe('1');
    expect(centsToDollars('-12.5')).toBe('-0.125');
    expect(centsToDollars('0.000000000000000001')).toBe('0.00000000000000000001');
  });
});
