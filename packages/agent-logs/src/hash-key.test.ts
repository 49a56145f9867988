import { describe, expect, it } from 'vitest';
import { hashKey } from './hash-key';

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
});
