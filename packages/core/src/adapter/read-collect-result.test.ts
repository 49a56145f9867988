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
});
