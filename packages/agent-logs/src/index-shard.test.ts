import { describe, expect, it } from 'vitest';
import { IndexShard } from './index-shard';

describe('IndexShard', () => {
  it('finds whole keys in the stored text, not a key that ends another', () => {
    const shard = new IndexShard('xab:1;ab:2.3;b:4');
    expect(shard.get('ab')).toEqual([2, 3]);
    expect(shard.get('b')).toEqual([4]);
    expect(shard.get('xab')).toEqual([1]);
    expect(shard.get('a')).toBeUndefined();
    expect(shard.changed).toBe(false);
    expect(shard.serialize()).toBe('xab:1;ab:2.3;b:4');
  });

  it('merges changes, additions and deletions when written', () => {
    const shard = new IndexShard('k1:10;k2:11.12;k3:13');
    shard.set('k2', [12]);
    shard.delete('k3');
    shard.set('k4', [14]);
    expect(shard.get('k2')).toEqual([12]);
    expect(shard.get('k3')).toBeUndefined();
    expect(shard.serialize()).toBe('k1:10;k2:12;k4:14');
    const empty = new IndexShard();
    empty.set('k', [1]);
    empty.delete('k');
    expect(empty.serialize()).toBe('');
  });

  it('appends responses it did not hold, and drops a new one deleted again', () => {
    const shard = new IndexShard('k1:10');
    shard.set('k2', [11]);
    shard.set('k3', [12]);
    shard.set('k2', [11, 13]);
    shard.delete('k3');
    shard.set('k1x', [14]);
    expect(shard.serialize()).toBe('k1:10;k2:11.13;k1x:14');
    expect(new IndexShard('k1:10').get('k1x')).toBeUndefined();
  });
});
