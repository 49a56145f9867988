import { describe, expect, it } from 'vitest';
import { readCollectResult } from './read-collect-result';

const record = (model: string) => ({ granularity: 'day' as const, bucket_start: '2026-10-01T00:00:00Z', provider: 'p', model, measurement_basis: 'exact' as const });

describe('readCollectResult', () => {
  it('reads an array result', async () => {
    expect(await readCollectResult(Promise.resolve([record('a')]))).toEqual([record('a')]);
  });

  it('drains an async iterable of batches in order', async () => {
    async function* batches() {
      yield [record('a'), record('b')];
      yield [];
      yield [record('c')];
    }
    expect((await readCollectResult(batches())).map((item) => item.model)).toEqual(['a', 'b', 'c']);
  });

  // `records.push(...batch)` overflowed the call stack above ~120,000 records,
  // so a large window failed every cycle and its watermark never moved.
  it('reads a million-record window, as one batch and as an array', async () => {
    const million = Array.from({ length: 1_000_000 }, (_, index) => record(`m${index}`));
    async function* oneBatch() {
      yield million;
    }
    const drained = await readCollectResult(oneBatch());
    expect(drained.length).toBe(1_000_000);
    expect(drained[999_999]?.model).toBe('m999999');
    expect((await readCollectResult(Promise.resolve(million))).length).toBe(1_000_000);
  });
});
