import { beforeEach, describe, expect, it } from 'vitest';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';

const SOURCE = 'anthropic-main';
const SYSTEM = 'test_system';

type Stored = { cost_usd: string | null; cost_source: string | null; price_ref: string | null; unpriced_reason: string | null; input_tokens: number | null };

async function stored(store: UsageStore): Promise<Stored[]> {
  return store.client.query<Stored>(
    `SELECT cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason, input_tokens FROM "${store.schema}".token_usage ORDER BY id`,
  );
}

const computed = (cost: string, priceRef: string, input = 1_000_000) =>
  usageRow({ input_tokens: input, cost_usd: cost, cost_source: 'computed', price_ref: priceRef });

describe.each(TEST_BACKENDS)('price provenance on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  it('stores price_ref and unpriced_reason', async () => {
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [computed('3', 'genai-prices@0.1.8:anthropic/claude-sonnet-4-5@base'), usageRow({ model: 'mystery', input_tokens: 5, unpriced_reason: 'no_price' })],
    });
    expect(await stored(store())).toEqual([
      { cost_usd: '3', cost_source: 'computed', price_ref: 'genai-prices@0.1.8:anthropic/claude-sonnet-4-5@base', unpriced_reason: null, input_tokens: 1_000_000 },
      { cost_usd: null, cost_source: null, price_ref: null, unpriced_reason: 'no_price', input_tokens: 5 },
    ]);
  });

  it('keeps a computed cost when a re-collected row has the same tokens, whatever the registry now says', async () => {
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [computed('3', 'registry-v1:x@base')] });
    // The registry moved on: the same tokens now price at 4. The stored cost stays.
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [computed('4', 'registry-v2:x@base')] });
    expect(await stored(store())).toEqual([
      { cost_usd: '3', cost_source: 'computed', price_ref: 'registry-v1:x@base', unpriced_reason: null, input_tokens: 1_000_000 },
    ]);
    // Nor does a registry that lost the model turn it into unpriced.
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow({ input_tokens: 1_000_000, unpriced_reason: 'no_price' })] });
    expect((await stored(store()))[0]).toMatchObject({ cost_usd: '3', price_ref: 'registry-v1:x@base', unpriced_reason: null });
  });

  it('replaces the cost when the tokens change or the provider reports one', async () => {
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [computed('3', 'registry-v1:x@base')] });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [computed('6', 'registry-v2:x@base', 2_000_000)] });
    expect((await stored(store()))[0]).toMatchObject({ cost_usd: '6', price_ref: 'registry-v2:x@base', input_tokens: 2_000_000 });
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ input_tokens: 2_000_000, cost_usd: '5.5', cost_source: 'provider' })],
    });
    expect((await stored(store()))[0]).toMatchObject({ cost_usd: '5.5', cost_source: 'provider', price_ref: null });
  });

  it('prices a row that was unpriced once a price exists (filling an unknown is not re-pricing)', async () => {
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow({ input_tokens: 1_000_000, unpriced_reason: 'no_price' })] });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [computed('3', 'config:openai/gpt-4o@base')] });
    expect((await stored(store()))[0]).toMatchObject({ cost_usd: '3', price_ref: 'config:openai/gpt-4o@base', unpriced_reason: null });
  });

  it('refuses a reason on a priced row and a price_ref without a cost', async () => {
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow({ input_tokens: 1, cost_usd: '1', cost_source: 'computed', unpriced_reason: 'no_price' })] }),
    ).rejects.toThrow(/token_usage_unpriced_reason_check/);
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow({ input_tokens: 1, price_ref: 'x' })] }),
    ).rejects.toThrow(/token_usage_price_ref_check/);
  });
});
