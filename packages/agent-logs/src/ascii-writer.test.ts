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

  it('takes texts into shared blocks, each after its length (big-endian), one after another', () => {
    const writer = new AsciiWriter();
    const taken: Uint8Array[] = [];
    for (const text of ['{"c":[]}', '', 'x'.repeat(700_000), 'y'.repeat(500_000), 'z']) {
      writer.reset();
      writer.ascii(text);
      const bytes = writer.takeBytes();
      expect(Buffer.from(bytes).toString('latin1')).toBe(text);
      const memory = Buffer.from(bytes.buffer, 0, bytes.byteOffset);
      expect(memory.readUInt32BE(bytes.byteOffset - 4)).toBe(text.length);
      taken.push(bytes);
    }
    // The first two and the third share a block; the fourth does not fit after them and opens the next, the fifth follows it.
    expect(taken[1]?.byteOffset).toBe((taken[0]?.byteOffset ?? 0) + (taken[0]?.length ?? 0) + 4);
    expect(taken[2]?.buffer).toBe(taken[0]?.buffer);
    expect(taken[3]?.buffer).not.toBe(taken[0]?.buffer);
    expect(taken[3]?.byteOffset).toBe(4);
    expect(taken[4]?.byteOffset).toBe((taken[3]?.byteOffset ?? 0) + (taken[3]?.length ?? 0) + 4);
  });
});
