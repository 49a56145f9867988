import { defineAdapter, type UsageAdapterV1CollectResult, z } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { collectAll } from './collect-all';
import { createTestContext } from './create-test-context';

const window = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-02T00:00:00Z'), granularity: 'day' } as const;
const record = { granularity: 'day', bucket_start: window.start, provider: 'p', model: 'm', measurement_basis: 'exact' } as const;

function adapterReturning(collect: () => UsageAdapterV1CollectResult) {
  return defineAdapter({
    specificationVersion: 'v1',
    id: 'fixture',
    sourceSystem: 'fixture',
    configSchema: z.object({}),
    capabilities: { granularities: ['day'], cacheTokens: 'none', costSource: 'none', measurementBasis: 'exact', maxBackfillDays: null, windowed: true },
    collect,
  });
}

describe('collectAll', () => {
  const context = createTestContext({ config: {} });

  it('drains a promise of an array', async () => {
    expect(await collectAll(adapterReturning(async () => [record, record]), window, context)).toEqual([record, record]);
  });

  it('drains an async iterable of batches in order', async () => {
    const adapter = adapterReturning(async function* () {
      yield [record];
      yield [];
      yield [{ ...record, model: 'n' }];
    });
    expect((await collectAll(adapter, window, context)).map((item) => item.model)).toEqual(['m', 'n']);
  });

  it('rejects when collect throws, synchronously or not', async () => {
    const throwing = adapterReturning(() => {
      throw new Error('boom');
    });
    await expect(collectAll(throwing, window, context)).rejects.toThrow('boom');
  });

  it('rejects a result that is neither an array nor an async iterable', async () => {
    const odd = adapterReturning(async () => ({ records: [] }) as never);
    await expect(collectAll(odd, window, context)).rejects.toThrow(/got Object/);
  });
});
