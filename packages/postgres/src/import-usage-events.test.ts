import { InvalidRecordError } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { UsageEvent } from './import-usage-events';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import type { UsageStore } from './usage-store';

const HOUR = new Date('2026-10-01T13:00:00Z');
const NEXT_HOUR = new Date('2026-10-01T14:00:00Z');

function event(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    line: 2,
    granularity: 'hour',
    bucket_start: HOUR,
    provider: 'openai',
    model: 'gpt-4o',
    account: '',
    api_key: '',
    user_id: '',
    labels: {},
    input_tokens: 10,
    output_tokens: 5,
    cached_read_tokens: null,
    cached_write_tokens: null,
    cached_write_1h_tokens: null,
    reasoning_tokens: null,
    requests: 1,
    cost_usd: null,
    measurement_basis: 'exact',
    ...overrides,
  };
}

async function* stream(events: readonly UsageEvent[]): AsyncGenerator<UsageEvent> {
  for (const item of events) yield item;
}

type StoredCell = {
  bucket_start: Date;
  model: string;
  labels: Record<string, string>;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  reasoning_tokens: number | null;
  requests: number | null;
  cost_usd: string | null;
  cost_source: string | null;
  price_ref: string | null;
  unpriced_reason: string | null;
  measurement_basis: string;
};

async function cells(store: UsageStore): Promise<StoredCell[]> {
  return store.client.query<StoredCell>(
    `SELECT bucket_start, model, labels, input_tokens, output_tokens, cached_read_tokens, reasoning_tokens, requests,
            cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason, measurement_basis
     FROM "${store.schema}".token_usage ORDER BY bucket_start, model, labels::text`,
  );
}

describe.each(TEST_BACKENDS)('importUsageEvents on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  const write = (events: readonly UsageEvent[], review?: Parameters<UsageStore['importUsageEvents']>[0]['review']) =>
    store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'export.csv', events: stream(events), review });

  it('sums events per cell, keeps NULL apart from 0 and takes the weakest basis', async () => {
    const result = await write([
      event({ line: 2, cost_usd: '0.0125' }),
      event({ line: 3, input_tokens: 0, cached_read_tokens: 0, cost_usd: '0.0005', measurement_basis: 'derived_estimate' }),
      event({ line: 4, bucket_start: NEXT_HOUR, output_tokens: null, cost_usd: '1.5' }),
      event({ line: 5, labels: { team: 'a\tb\\c\nd' }, model: 'mod\u00e9le', cost_usd: '2' }),
    ]);
    expect(result).toMatchObject({ events: 4, cells: 3, rowsWritten: 3, refusedCellCount: 0, partialCostCellCount: 0 });
    const stored = await cells(store());
    expect(stored).toEqual([
      expect.objectContaining({
        bucket_start: HOUR,
        model: 'gpt-4o',
        input_tokens: 10,
        output_tokens: 10,
        cached_read_tokens: 0,
        reasoning_tokens: null,
        requests: 2,
        cost_usd: '0.013',
        cost_source: 'provider',
        measurement_basis: 'derived_estimate',
      }),
      expect.objectContaining({ bucket_start: HOUR, model: 'mod\u00e9le', labels: { team: 'a\tb\\c\nd' }, cost_usd: '2' }),
      expect.objectContaining({ bucket_start: NEXT_HOUR, output_tokens: null, cached_read_tokens: null, cost_usd: '1.5' }),
    ]);
  });

  it('sums per-request computed costs exactly with their distinct prices, and leaves a partial cost NULL', async () => {
    const result = await write([
      event({ line: 2, computed_cost_usd: '0.000000000000000000000001', price_ref: 'p@2' }),
      event({ line: 3, computed_cost_usd: '0.1', price_ref: 'p@1' }),
      event({ line: 4, computed_cost_usd: '0.2', price_ref: 'p@2' }),
      event({ line: 5, bucket_start: NEXT_HOUR, cost_usd: '1' }),
      event({ line: 6, bucket_start: NEXT_HOUR, unpriced_reason: 'no_price' }),
      event({ line: 7, bucket_start: NEXT_HOUR, unpriced_reason: 'missing_rate:cacheWrite' }),
    ]);
    expect(result.partialCostCellCount).toBe(1);
    expect(result.unpricedCells).toBe(1);
    expect(result.partialCostCells[0]).toMatchObject({ line: 5, field: 'cost_usd', events: 3, eventsWithCost: 1, unpricedReason: 'no_price' });
    const [priced, partial] = await cells(store());
    expect(priced).toMatchObject({
      cost_usd: '0.300000000000000000000001',
      cost_source: 'computed',
      price_ref: 'per-request:p@1|p@2',
      unpriced_reason: null,
    });
    expect(partial).toMatchObject({ cost_usd: null, cost_source: null, price_ref: null, unpriced_reason: 'per-request:no_price' });
  });

  it('replaces the cells on a second import instead of adding to them (invariant 1)', async () => {
    const events = [event({ line: 2, cost_usd: '1' }), event({ line: 3, cost_usd: '2' })];
    await write(events);
    const first = await cells(store());
    const again = await write(events);
    expect(again.rowsWritten).toBe(1);
    expect(await cells(store())).toEqual(first);
  });

  it('refuses a cell whose sum breaks a record rule, naming its first line, and writes nothing', async () => {
    const events = [
      event({ line: 2, bucket_start: NEXT_HOUR }),
      event({ line: 7, output_tokens: null, reasoning_tokens: 8 }),
      event({ line: 9, output_tokens: 3, reasoning_tokens: null }),
    ];
    await expect(write(events)).rejects.toSatisfy(
      (error) => InvalidRecordError.isInstance(error) && /reasoning_tokens: is part of output_tokens.*line 7/.test(error.message),
    );
    expect(await cells(store())).toEqual([]);

    // A review that accepts refused cells writes the others.
    const result = await write(events, (rollup) => {
      expect(rollup.refusedCells).toEqual([expect.objectContaining({ line: 7, field: 'reasoning_tokens', events: 2 })]);
      expect(rollup.refusedEvents).toBe(2);
    });
    expect(result.rowsWritten).toBe(1);
    expect((await cells(store())).map((cell) => cell.bucket_start)).toEqual([NEXT_HOUR]);
  });

  it('writes nothing when the events fail midway or the review refuses', async () => {
    async function* failing(): AsyncGenerator<UsageEvent> {
      for (let line = 2; line < 5000; line++) yield event({ line, bucket_start: new Date(HOUR.getTime() + line * 3_600_000) });
      throw new Error('bad line 5000');
    }
    await expect(store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'x', events: failing() })).rejects.toThrow('bad line 5000');
    await expect(
      write([event()], () => {
        throw new Error('refused by review');
      }),
    ).rejects.toThrow('refused by review');
    expect(await cells(store())).toEqual([]);
    // The connection (or PGlite) is usable afterwards.
    await write([event()]);
    expect(await cells(store())).toHaveLength(1);
  });
});
