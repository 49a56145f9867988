import { toProviderCostRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';

const SOURCE = 'openai-main';
const SYSTEM = 'test_system';
const DAY = new Date('2026-10-01T00:00:00Z');
const hour = (index: number) => new Date(DAY.getTime() + index * 3_600_000);
const WINDOW = { start: hour(10), end: hour(14), granularity: 'hour' as const, sourceInstances: [SOURCE] };

const row = (at: number, model: string, extra: Parameters<typeof usageRow>[0] = {}) =>
  usageRow({ source_instance: SOURCE, bucket_start: hour(at), model, input_tokens: at * 10, ...extra });
const cost = (lineItem: string) =>
  toProviderCostRow({ bucket_start: DAY.toISOString(), provider: 'openai', line_item: lineItem, amount_usd: '1.5' }, { sourceSystem: SYSTEM, defaultInstance: SOURCE });

async function stored(store: UsageStore): Promise<string[]> {
  const rows = await store.client.query<{ source_instance: string; bucket_start: Date; model: string }>(
    `SELECT source_instance, bucket_start, model FROM "${store.schema}".token_usage ORDER BY source_instance, bucket_start, model`,
  );
  return rows.map((item) => `${item.source_instance} ${item.bucket_start.toISOString().slice(11, 13)}h ${item.model}`);
}

describe.each(TEST_BACKENDS)('ghost rows on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  const first = () =>
    store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [row(9, 'gpt-a'), row(11, 'gpt-a'), row(11, 'gpt-b'), row(12, 'gpt-a'), row(12, 'gpt-b'), row(12, 'gpt-b', { source_instance: 'other' })],
      providerCosts: [cost('tokens'), cost('web_search')],
    });

  it('a revision that drops a row: re-collecting the window completely removes it, in the same write', async () => {
    await first();
    // The provider's revision: gpt-b at 11h is gone, gpt-b at 12h renamed gpt-c.
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [row(11, 'gpt-a'), row(12, 'gpt-a'), row(12, 'gpt-c')],
      replace: WINDOW,
    });
    expect(await stored(store())).toEqual([
      // 9h lies before the window and another instance is another source's: both untouched.
      'openai-main 09h gpt-a',
      'openai-main 11h gpt-a',
      'openai-main 12h gpt-a',
      'openai-main 12h gpt-c',
      'other 12h gpt-b',
    ]);
  });

  it('without replace (file-based and non-windowed sources) a row not returned again stays', async () => {
    await first();
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [row(11, 'gpt-a')] });
    expect(await stored(store())).toHaveLength(6);
  });

  it('an empty re-collection empties the window, and a billed line item dropped from a re-collected day goes too', async () => {
    await first();
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [],
      providerCosts: [cost('tokens')],
      replace: { ...WINDOW, costDays: { start: DAY, end: hour(24) } },
    });
    expect(await stored(store())).toEqual(['openai-main 09h gpt-a', 'other 12h gpt-b']);
    const items = await store().client.query<{ line_item: string }>(`SELECT line_item FROM "${store().schema}".provider_cost ORDER BY line_item`);
    expect(items).toEqual([{ line_item: 'tokens' }]);
  });

  it('rolls the deletion back with the rest of the write when the write fails', async () => {
    await first();
    const failing = store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [row(11, 'gpt-a', { input_tokens: -1 })],
      replace: WINDOW,
    });
    await expect(failing).rejects.toThrow();
    expect(await stored(store())).toHaveLength(6);
  });
});
