import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsciiWriter } from './ascii-writer';
import { keyText } from './hash-key';

describe('AsciiWriter', () => {
  it('writes numbers as `${value}` does, and keys as keyText()', () => {
    const writer = new AsciiWriter();
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.integer({ min: 0, max: 20 }), fc.nat(), fc.integer({ min: 2 ** 31 - 10, max: 2 ** 31 + 10 }), fc.maxSafeNat(), fc.double(), fc.integer({ min: -1000, max: -1 })),
          { maxLength: 20 },
        ),
        fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { maxLength: 5 }),
        (numbers, keys) => {
          writer.reset();
          for (const [index, value] of numbers.entries()) {
            if (index > 0) writer.byte(44);
            writer.number(value);
          }
          for (const [first, second] of keys) writer.key(first, second);
          expect(writer.text()).toBe(numbers.map((value) => `${value}`).join(',') + keys.map(([first, second]) => keyText(first, second)).join(''));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('grows past its first buffer', () => {
    const writer = new AsciiWriter();
    const text = 'x'.repeat(100_000);
    writer.ascii(text);
    writer.number(123);
    expect(writer.text()).toBe(`${text}123`);
  });
});
