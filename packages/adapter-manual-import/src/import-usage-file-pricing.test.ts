import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UsageAdapterV1PriceInput, UsageAdapterV1Pricer } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsageFile } from './import-usage-file';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-manual-import-pricing-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/**
 * A long-context price: $1/M input for a request whose prompt is up to 200k
 * tokens, $2/M for every token of a larger one. Unknown models are unpriced.
 */
const seen: UsageAdapterV1PriceInput[] = [];
const pricer: UsageAdapterV1Pricer = {
  specificationVersion: 'v1',
  price(input) {
    seen.push(input);
    if (input.model !== 'tiered') return { status: 'unpriced', unpricedReason: 'no_price' };
    const prompt = input.input_tokens ?? 0;
    const perMillion = prompt > 200_000 ? 2 : 1;
    return { status: 'priced', costUsd: String((prompt * perMillion) / 1_000_000), priceRef: `test:tiered@base${perMillion === 2 ? ';tier>200000' : ''}` };
  },
};

const HEADER = 'bucket_start,provider,model,input_tokens,requests,cost_usd\n';

describe('importUsageFile with a pricer', () => {
  it('prices each request before the rollup, so the tier applies per request and not to the bucket total', async () => {
    seen.length = 0;
    const path = join(directory, 'requests.csv');
    // Two 150k requests (base rate each: 0.15 + 0.15) and one 250k request (tier: 0.5) in one day.
    await writeFile(path, `${HEADER}2026-10-01T09:00:00Z,acme,tiered,150000,1,\n2026-10-01T10:00:00Z,acme,tiered,150000,1,\n2026-10-01T11:00:00Z,acme,tiered,250000,1,\n`);
    const result = await importUsageFile(path, { pricer });
    expect(seen).toHaveLength(3);
    expect(result.records).toHaveLength(1);
    // Priced on the summed 550k as one request it would be 1.1; per request it is 0.8.
    expect(result.records[0]).toMatchObject({
      input_tokens: 550_000,
      cost_usd: '0.8',
      cost_source: 'computed',
      price_ref: 'per-request:test:tiered@base|test:tiered@base;tier>200000',
    });
  });

  it('keeps a cost given in the file, adds it to computed ones, and leaves an unpriced cell NULL with the reason', async () => {
    const path = join(directory, 'mixed.csv');
    await writeFile(
      path,
      `${HEADER}2026-10-01T09:00:00Z,acme,tiered,100000,1,0.25\n2026-10-01T10:00:00Z,acme,tiered,100000,1,\n2026-10-01T10:00:00Z,acme,mystery,5,1,\n`,
    );
    const result = await importUsageFile(path, { pricer });
    expect(result.records).toEqual([
      expect.objectContaining({ model: 'tiered', cost_usd: '0.35', cost_source: 'computed', price_ref: 'per-request:test:tiered@base' }),
      expect.objectContaining({ model: 'mystery', cost_usd: null, cost_source: null, unpriced_reason: 'per-request:no_price' }),
    ]);
    expect(result.records[0]).not.toHaveProperty('unpriced_reason');
  });

  it('without a pricer leaves cells without a cost NULL and unmarked, for the worker to price', async () => {
    const path = join(directory, 'plain.csv');
    await writeFile(path, `${HEADER}2026-10-01T09:00:00Z,acme,tiered,100000,1,\n`);
    const [record] = (await importUsageFile(path)).records;
    expect(record).toMatchObject({ cost_usd: null, cost_source: null });
    expect(record).not.toHaveProperty('price_ref');
    expect(record).not.toHaveProperty('unpriced_reason');
  });
});
