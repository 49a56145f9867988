import { defineAdapter, type UsageAdapterV1, type UsageRecordInput, z } from '@utt/core';
import { openStore, type UsageStore } from '@utt/postgres';
import { createPriceRegistry, type PriceRegistry } from '@utt/pricing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerConfigSchema } from '../config/worker-config-schema';
import { collectSource } from './collect-source';

const config = workerConfigSchema.parse({ database: { path: 'memory://' }, sources: [{ name: 'logs', adapter: 'test' }] });
const registry = createPriceRegistry({ overrides: { 'anthropic/claude-sonnet-4-5': { input: 3, output: 15 } } });
const record: UsageRecordInput = {
  granularity: 'hour',
  bucket_start: '2026-10-01T10:00:00Z',
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  measurement_basis: 'exact',
  input_tokens: 1_000_000,
  output_tokens: 0,
};

/** An adapter that returns `records` and remembers whether its context had a pricer (and, with `whileCollecting`, calls it during collect()). */
function testAdapter(records: UsageRecordInput[], usesPricer: boolean | undefined, whileCollecting?: () => void) {
  const seen: { pricer?: boolean } = {};
  const adapter = defineAdapter({
    specificationVersion: 'v1',
    id: 'test',
    sourceSystem: 'test',
    configSchema: z.object({}),
    capabilities: {
      granularities: ['hour'],
      cacheTokens: 'none',
      costSource: 'none',
      measurementBasis: 'exact',
      maxBackfillDays: null,
      windowed: false,
      ...(usesPricer === undefined ? {} : { usesPricer }),
    },
    async collect(_window, context) {
      seen.pricer = context.pricer !== undefined;
      // A scan reads its files on other threads: the worker's own thread is free meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 5));
      whileCollecting?.();
      return records;
    },
  }) as UsageAdapterV1<unknown>;
  return { adapter, seen };
}

let store: UsageStore;
beforeAll(async () => {
  store = await openStore({ path: 'memory://' });
});
afterAll(async () => {
  await store.close();
});

async function collect(
  adapter: UsageAdapterV1<unknown>,
  options: { range?: { since: Date }; pricing?: () => Promise<PriceRegistry>; loads?: number[] } = {},
) {
  const loads = options.loads ?? [];
  const result = await collectSource({
    prepared: { source: config.sources[0] as (typeof config.sources)[number], adapter, adapterConfig: {}, granularity: 'hour', configDirectory: '.' },
    store,
    worker: config.worker,
    pricing:
      options.pricing ??
      (async (): Promise<PriceRegistry> => {
        loads.push(1);
        return registry;
      }),
    range: options.range,
    env: {},
    fetch: () => Promise.reject(new Error('no network in this test')),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    secrets: new Set(),
    signal: new AbortController().signal,
    now: new Date('2026-10-02T00:00:00Z'),
  });
  return { result, loads: loads.length };
}

describe('collectSource and the price registry', () => {
  it('loads no registry for an adapter without a pricer whose cycle brings no rows', async () => {
    const { adapter, seen } = testAdapter([], false);
    const { result, loads } = await collect(adapter);
    expect(result).toMatchObject({ status: 'ok', rowsWritten: 0 });
    expect(seen.pricer).toBe(false);
    expect(loads).toBe(0);
  });

  it('loads the registry for rows that need a price, and prices them as before', async () => {
    const { adapter, seen } = testAdapter([record], false);
    const { result, loads } = await collect(adapter);
    expect(result).toMatchObject({ status: 'ok', rowsWritten: 1, unpricedRows: 0 });
    expect(seen.pricer).toBe(false);
    expect(loads).toBe(1);
    const [row] = await store.client.query<{ cost_usd: string; price_ref: string }>(`SELECT cost_usd::text, price_ref FROM utt.token_usage WHERE source_system = 'test'`);
    expect(row).toEqual({ cost_usd: '3', price_ref: 'config:anthropic/claude-sonnet-4-5@base' });
  });

  it('starts loading the registry while a backfill collects, when the adapter leaves cost to the worker', async () => {
    const loads: number[] = [];
    let loadsWhileCollecting: number | undefined;
    const { adapter } = testAdapter([record], false, () => {
      loadsWhileCollecting = loads.length;
    });
    const { result } = await collect(adapter, { range: { since: new Date('2026-10-01T00:00:00Z') }, loads });
    expect(result).toMatchObject({ status: 'ok', rowsWritten: 1, unpricedRows: 0 });
    expect(loadsWhileCollecting).toBeGreaterThan(0);
  });

  it('reports a registry that fails to load during a backfill where it always did: as the source error, once rows need a price', async () => {
    const failing = () => Promise.reject(new Error('bundled prices unreadable'));
    const { adapter } = testAdapter([record], false);
    const { result } = await collect(adapter, { range: { since: new Date('2026-10-01T00:00:00Z') }, pricing: failing });
    expect(result).toMatchObject({ status: 'error', rowsWritten: 0 });
    expect(result.error).toContain('bundled prices unreadable');
    // A backfill that brings no rows never needs a price: the failed early load is not its error.
    const { adapter: empty } = testAdapter([], false);
    const { result: emptyResult } = await collect(empty, { range: { since: new Date('2026-10-01T00:00:00Z') }, pricing: failing });
    expect(emptyResult).toMatchObject({ status: 'ok', rowsWritten: 0 });
  });

  it('does not load the registry during a cycle that is not a backfill (it may find nothing new)', async () => {
    const loads: number[] = [];
    let loadsWhileCollecting: number | undefined;
    const { adapter } = testAdapter([], false, () => {
      loadsWhileCollecting = loads.length;
    });
    await collect(adapter, { loads });
    expect(loadsWhileCollecting).toBe(0);
    expect(loads).toHaveLength(0);
  });

  it('hands an adapter that does not say it needs no pricer one, loaded before collect()', async () => {
    const { adapter, seen } = testAdapter([], undefined);
    const { loads } = await collect(adapter);
    expect(seen.pricer).toBe(true);
    expect(loads).toBe(1);
  });
});
