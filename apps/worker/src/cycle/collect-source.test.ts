import { defineAdapter, type UsageAdapterV1, type UsageRecordInput, z } from '@utt/core';
import { openStore, type UsageStore } from '@utt/postgres';
import { createPriceRegistry, type PriceRegistry } from '@utt/pricing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

/** PGlite always; the PostgreSQL server of UTT_TEST_DATABASE_URL too, in a schema of its own. */
const largeWriteBackends = [
  { name: 'pglite', open: () => openStore({ path: 'memory://' }), dispose: async () => {} },
  ...(process.env.UTT_TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          open: () => openStore({ url: process.env.UTT_TEST_DATABASE_URL, schema: largeWriteSchema }),
          dispose: async (store: UsageStore) => {
            await store.client.exec(`DROP SCHEMA IF EXISTS ${largeWriteSchema} CASCADE`);
          },
        },
      ]
    : []),
];
const largeWriteSchema = `utt_test_collect_${process.pid}`;

describe.each(largeWriteBackends)('collectSource, a large write started before its records are validated, on $name', (backend) => {
  let large: UsageStore;
  beforeAll(async () => {
    large = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(large);
    await large.close();
  });
  beforeEach(async () => {
    await large.client.exec(
      ['token_usage', 'watchdog_status', 'rollup_watermark', 'source_state'].map((table) => `DELETE FROM "${large.schema}".${table};`).join('\n'),
    );
  });

  const COUNT = 12_000;
  /** COUNT hourly records (three statements' worth), each of its own hour, and state staged as an agent-log adapter does. */
  function largeAdapter(change: (records: UsageRecordInput[]) => void = () => {}) {
    const records: UsageRecordInput[] = Array.from({ length: COUNT }, (_, index) => ({
      ...record,
      bucket_start: new Date(Date.UTC(2025, 0, 1) + index * 3_600_000).toISOString(),
      input_tokens: index + 1,
    }));
    change(records);
    return defineAdapter({
      specificationVersion: 'v1',
      id: 'test',
      sourceSystem: 'test',
      configSchema: z.object({}),
      capabilities: { granularities: ['hour'], cacheTokens: 'none', costSource: 'none', measurementBasis: 'exact', maxBackfillDays: null, windowed: false, usesPricer: false },
      async collect(_window, context) {
        context.state?.set('cursor', { offset: COUNT });
        return records;
      },
    }) as UsageAdapterV1<unknown>;
  }

  /** The store, counting the rows sent ahead; `onSend` runs before each chunk goes, `onStart` once the write has started. */
  function watchedStore(onSend: (sent: number) => void = () => {}, onStart: () => void = () => {}) {
    const seen = { sent: 0 };
    const watched: UsageStore = {
      ...large,
      startSourceWrite(start) {
        const write = large.startSourceWrite(start);
        onStart();
        return {
          ...write,
          sendRows(rows) {
            onSend(seen.sent);
            if (write.sendsRowsAhead()) seen.sent += rows.length;
            return write.sendRows(rows);
          },
        };
      },
    };
    return { watched, seen };
  }

  async function run(adapter: UsageAdapterV1<unknown>, options: { store: UsageStore; signal?: AbortSignal; secrets?: Set<string>; pricing?: () => Promise<PriceRegistry> }) {
    const debug: Array<Record<string, unknown>> = [];
    const result = await collectSource({
      prepared: { source: config.sources[0] as (typeof config.sources)[number], adapter, adapterConfig: {}, granularity: 'hour', configDirectory: '.' },
      store: options.store,
      worker: config.worker,
      pricing: options.pricing ?? (async () => registry),
      env: {},
      fetch: () => Promise.reject(new Error('no network in this test')),
      logger: {
        debug(_message: string, fields?: Record<string, unknown>) {
          if (fields) debug.push(fields);
        },
        info() {},
        warn() {},
        error() {},
      },
      secrets: options.secrets ?? new Set(),
      signal: options.signal ?? new AbortController().signal,
      now: new Date('2026-10-02T00:00:00Z'),
    });
    return { result, window: debug.find((fields) => 'rowsSentAhead' in fields) };
  }

  async function stored() {
    const [rows] = await large.client.query<{ count: number; cost: string | null; input: string | null }>(
      `SELECT count(*)::int AS count, sum(cost_usd)::text AS cost, sum(input_tokens)::text AS input FROM "${large.schema}".token_usage`,
    );
    return { ...rows, state: await large.loadSourceState('logs') };
  }
  const nothing = { count: 0, cost: null, input: null, state: new Map() };

  it('writes every row priced, and the state, sending rows ahead on a first write to a server', async () => {
    const { watched, seen } = watchedStore();
    const { result, window } = await run(largeAdapter(), { store: watched });
    expect(result).toMatchObject({ status: 'ok', rowsWritten: COUNT, unpricedRows: 0 });
    // Every chunk but the last is sent ahead on a server; PGlite (one thread) writes them all at the end.
    expect(seen.sent).toBe(backend.name === 'postgres' ? COUNT : 0);
    expect(window?.rowsSentAhead).toBe(backend.name === 'postgres' ? COUNT : 0);
    // $3 per million input tokens, for 1 + 2 + … + COUNT tokens.
    const input = (COUNT * (COUNT + 1)) / 2;
    const after = await stored();
    expect({ ...after, cost: Number(after.cost) }).toEqual({ count: COUNT, cost: (input * 3) / 1_000_000, input: String(input), state: new Map([['cursor', { offset: COUNT }]]) });
  });

  it('writes nothing when a record of the last chunk is refused after the first chunks were sent', async () => {
    const { watched, seen } = watchedStore();
    const { result } = await run(
      largeAdapter((records) => {
        records[COUNT - 1] = { ...(records[COUNT - 1] as UsageRecordInput), input_tokens: -1 };
      }),
      { store: watched },
    );
    expect(result).toMatchObject({ status: 'error', rowsWritten: 0 });
    expect(result.error).toMatch(new RegExp(`logs record ${COUNT - 1}`));
    expect(seen.sent).toBe(backend.name === 'postgres' ? 10_000 : 0);
    expect(await stored()).toEqual(nothing);
    expect((await large.listStatus()).map((status) => status.status)).toEqual(['error']);
  });

  it('writes nothing when SIGTERM comes while the rows are validated, and rethrows it', async () => {
    const controller = new AbortController();
    // On a server once rows have gone ahead; on PGlite (nothing goes ahead) once the write's transaction is open.
    const sigterm = () => controller.abort(new Error('SIGTERM'));
    const { watched } = watchedStore(
      (sent) => {
        if (sent > 0) sigterm();
      },
      () => {
        if (backend.name === 'pglite') sigterm();
      },
    );
    await expect(run(largeAdapter(), { store: watched, signal: controller.signal })).rejects.toThrow(/SIGTERM/);
    expect(await stored()).toEqual(nothing);
    expect(await large.listStatus()).toEqual([]);
  });

  it('refuses a secret echoed in the last chunk as before, naming the record, and writes nothing', async () => {
    const secret = 'sk-test-secret-0123';
    const { watched, seen } = watchedStore();
    const { result } = await run(
      largeAdapter((records) => {
        records[COUNT - 1] = { ...(records[COUNT - 1] as UsageRecordInput), model: `claude-${secret}` };
      }),
      { store: watched, secrets: new Set([secret]) },
    );
    expect(result).toMatchObject({ status: 'error', rowsWritten: 0 });
    expect(result.error).toContain(`record ${COUNT - 1}: model: holds the value of a configured secret`);
    expect(result.error).not.toContain(secret);
    // The chunk holding it never went.
    expect(seen.sent).toBe(backend.name === 'postgres' ? 10_000 : 0);
    expect(await stored()).toEqual(nothing);
  });

  it('reports a price registry that does not load as before, and writes nothing', async () => {
    const { watched } = watchedStore();
    const { result } = await run(largeAdapter(), { store: watched, pricing: () => Promise.reject(new Error('bundled prices unreadable')) });
    expect(result).toMatchObject({ status: 'error', rowsWritten: 0 });
    expect(result.error).toContain('bundled prices unreadable');
    expect(await stored()).toEqual(nothing);
  });
});
