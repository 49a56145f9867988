import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readImportEvents } from '@utt/adapter-manual-import';
import type { UsageStore } from '@utt/postgres';
import { createPricer, loadPriceRegistry, type PriceRegistry } from '@utt/pricing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, removeWorkdir } from './helpers/cli';

/**
 * `utt import` quotes each request its price plan and the store prices the
 * summed tokens of a cell once per plan. The import promises per-request
 * pricing before the roll-up: this checks, on random files, that both ways give
 * the same cells, to the last digit of every cost, with tiers chosen per
 * request, NULL buckets, unpriced requests (their reason kept, never $0),
 * given costs beside computed ones, and partial sums spilled at any point.
 */
const HEADER = 'bucket_start,granularity,provider,model,user_id,labels,input_tokens,output_tokens,cached_read_tokens,cached_write_tokens,cached_write_1h_tokens,requests,cost_usd,measurement_basis';
const MODELS = [
  'anthropic,claude-sonnet-4-5', // long-context tier above 200k prompt tokens
  'anthropic,claude-sonnet-4-5',
  'acme,tiered', // 12-decimal rates, a tier and a batch multiplier (override)
  'acme,per-call', // a fee per request: a row without requests is unpriced
  'google,gemini-2.5-pro', // no cache-write rate: a row with cache writes is unpriced
  'openai,o3', // a price cut on 2025-06-10
  'nobody,unknown-model', // no price
];
const LABELS = ['', '', '"{""service_tier"":""batch""}"', '"{""service_tier"":""mystery""}"', '"{""team"":""search""}"'];
const HOURS = ['2025-06-09T23', '2025-06-10T00', '2025-10-01T13'];

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomFile(seed: number, rows: number): string {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const maybe = (max: number) => (next() < 0.2 ? '' : String(Math.floor(next() * max)));
  const lines = [HEADER];
  for (let row = 0; row < rows; row++) {
    const at = `${pick(HOURS)}:${String(Math.floor(next() * 60)).padStart(2, '0')}:07.250Z`;
    const input = next() < 0.15 ? String(150_000 + Math.floor(next() * 250_000)) : maybe(40_000);
    const cacheWrite = maybe(30_000);
    const hourWrites = cacheWrite === '' || next() < 0.5 ? '' : String(Math.floor(Number(cacheWrite) * next()));
    const empty = next() < 0.05; // no token column at all: unpriced "no_tokens"
    const cost = next() < 0.1 ? `0.${String(Math.floor(next() * 1e9)).padStart(9, '0')}` : '';
    lines.push(
      [
        at,
        'hour',
        pick(MODELS),
        pick(['', 'u1', 'u2']),
        pick(LABELS),
        empty ? '' : input,
        empty ? '' : maybe(20_000),
        empty ? '' : maybe(50_000),
        empty ? '' : cacheWrite,
        empty ? '' : hourWrites,
        next() < 0.1 ? '' : pick(['1', '1', '1', '2']),
        cost,
        'exact',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

type Cell = Record<string, unknown>;

async function storedCells(store: UsageStore, instance: string): Promise<Cell[]> {
  return store.client.query<Cell>(
    `SELECT bucket_start, provider, model, user_id, labels::text AS labels, input_tokens, output_tokens, cached_read_tokens,
            cached_write_tokens, cached_write_1h_tokens, requests, cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason, measurement_basis
     FROM "${store.schema}".token_usage WHERE source_instance = $1
     ORDER BY bucket_start, provider, model, user_id, labels::text`,
    [instance],
  );
}

let registry: PriceRegistry;
beforeAll(async () => {
  registry = await loadPriceRegistry({
    overrides: {
      'acme/tiered': {
        input: '1.234567890123',
        output: 7,
        cacheRead: '0.1',
        cacheWrite: '1.5',
        cacheWrite1h: '2.000000000001',
        longContext: { above: 200_000, input: 2.5, output: 14, cacheRead: 0.2, cacheWrite: 3, cacheWrite1h: 4 },
        serviceTiers: { batch: '0.5' },
      },
      'acme/per-call': { input: 0.5, output: 1.5, perRequest: '0.000123' },
    },
  });
});

describe.each(backends())('import priced per plan on $name', (backend) => {
  let workdir: string;
  let store: UsageStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    workdir = await makeWorkdir();
    const database = backend.setup(workdir);
    cleanup = database.cleanup;
    store = await database.open();
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
    await removeWorkdir(workdir);
  });

  it.each([1, 2, 3, 4, 5, 6])('gives the cells of pricing every request and summing (seed %i)', async (seed) => {
    const file = path.join(workdir, `seed-${seed}.csv`);
    await writeFile(file, randomFile(seed, 400));
    const load = async (instance: string, pricePlans: boolean, partialCellLimit?: number) => {
      const stream = readImportEvents(file, { pricer: createPricer(registry), pricePlans });
      await store.importUsageEvents({ sourceSystem: 'manual', sourceInstance: instance, events: stream.batches, partialCellLimit });
      return storedCells(store, instance);
    };
    const perRequest = await load(`per-request-${seed}`, false);
    const perPlan = await load(`per-plan-${seed}`, true);
    // Spilled every few cells: a cell's plans are summed in several partial sums.
    const spilled = await load(`spilled-${seed}`, true, 1 + (seed % 4));
    expect(perRequest.length).toBeGreaterThan(20);
    // The file has priced, unpriced and partly priced cells.
    expect(perRequest.some((cell) => cell.cost_source === 'computed' && String(cell.price_ref).includes('|'))).toBe(true);
    expect(perRequest.some((cell) => cell.cost_usd === null && cell.unpriced_reason !== null)).toBe(true);
    expect(perRequest.some((cell) => String(cell.price_ref).includes('tier>200000'))).toBe(true);
    expect(perPlan).toEqual(perRequest);
    expect(spilled).toEqual(perRequest);
  });
});
