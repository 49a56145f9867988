import { describe, expect, it } from 'vitest';
import { serializeIndexShard, storedIndexHours } from './index-shard';

/** A shard's text with changes applied in order, as the ledger merges them. */
function merged(text: string, steps: Array<[string, number[] | null]>): string {
  const changes = new Map<string, number[] | null>();
  let rewrite = false;
  for (const [key, hours] of steps) {
    if (!changes.has(key) && storedIndexHours(text, key) !== undefined) rewrite = true;
    changes.set(key, hours);
  }
  return serializeIndexShard(text, [...changes], (key) => changes.has(key), rewrite);
}

describe('index shards', () => {
  it('finds whole keys in the stored text, not a key that ends another', () => {
    const text = 'xab:1;ab:2.3;b:4';
    expect(storedIndexHours(text, 'ab')).toEqual([2, 3]);
    expect(storedIndexHours(text, 'b')).toEqual([4]);
    expect(storedIndexHours(text, 'xab')).toEqual([1]);
    expect(storedIndexHours(text, 'a')).toBeUndefined();
    expect(storedIndexHours('', 'a')).toBeUndefined();
    expect(merged(text, [])).toBe('xab:1;ab:2.3;b:4');
  });

  it('merges changes, additions and deletions when written', () => {
    expect(
      merged('k1:10;k2:11.12;k3:13', [
        ['k2', [12]],
        ['k3', null],
        ['k4', [14]],
      ]),
    ).toBe('k1:10;k2:12;k4:14');
    expect(
      merged('', [
        ['k', [1]],
        ['k', null],
      ]),
    ).toBe('');
  });

  it('appends responses it did not hold, and drops a new one deleted again', () => {
    expect(
      merged('k1:10', [
        ['k2', [11]],
        ['k3', [12]],
        ['k2', [11, 13]],
        ['k3', null],
        ['k1x', [14]],
      ]),
    ).toBe('k1:10;k2:11.13;k1x:14');
    expect(storedIndexHours('k1:10', 'k1x')).toBeUndefined();
  });
});
