import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashKey, hashKeyInto, keyText, keyTextHash, parseKeyText } from './hash-key';

describe('hashKey', () => {
  it('gives 11 characters that need no escaping in JSON or the state encoding, the same for the same text', () => {
    expect(hashKey('msg_01XyZ')).toMatch(/^[0-9A-Za-z_-]{11}$/);
    expect(hashKey('')).toMatch(/^[0-9A-Za-z_-]{11}$/);
    expect(hashKey('msg_01XyZ')).toBe(hashKey(`msg_01${'XyZ'}`));
  });

  it('keeps 100,000 similar ids apart, in both halves', () => {
    const full = new Set<string>();
    const first = new Set<string>();
    const second = new Set<string>();
    for (let index = 0; index < 100_000; index += 1) {
      const hash = hashKey(`msg_01${index.toString(16).padStart(22, '0')}`);
      full.add(hash);
      first.add(hash.slice(0, 5));
      second.add(hash.slice(6));
    }
    expect(full.size).toBe(100_000);
    // 30 and 28 bits of each 32-bit half: 100,000 values would collide in a few dozen places if a half were broken.
    expect(first.size).toBeGreaterThan(99_900);
    expect(second.size).toBeGreaterThan(99_900);
  });

  it('goes between text and halves both ways, and hashes the text of halves as the text itself', () => {
    const halves = new Uint32Array(2);
    const parsed = new Uint32Array(2);
    fc.assert(
      fc.property(fc.string(), (id) => {
        hashKeyInto(id, halves);
        const text = hashKey(id);
        expect(keyText(halves[0] as number, halves[1] as number)).toBe(text);
        expect(parseKeyText(text, parsed)).toBe(true);
        expect([...parsed]).toEqual([...halves]);
        // The ledger's index shard of a key: FNV-1a over its text, as it was computed from the text.
        let fnv = 0x811c9dc5;
        for (let index = 0; index < text.length; index += 1) fnv = Math.imul(fnv ^ text.charCodeAt(index), 0x01000193);
        expect(keyTextHash(halves[0] as number, halves[1] as number)).toBe(fnv >>> 0);
      }),
      { numRuns: 2000 },
    );
    for (const bad of ['', 'abc', 'AAAAAAAAAAAA', 'AAAAAAAAAA!', 'AAAAAAAAAAz', 'AAAAAAAAAA\u00e9']) expect(parseKeyText(bad, parsed)).toBe(false);
  });
});
