import { InvalidRecordError, type UsageAdapterV1PricePlan } from '@utt/core';
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

  it('prices the summed buckets of a cell once per quoted plan, beside given and per-event costs', async () => {
    // A plan as a pricer quotes it: 10^-9 USD per input token, 3·10^-9 per output, 2·10^-9 per 5-minute and 4·10^-9 per 1-hour cache write.
    const plan = (priceRef: string, perRequest = 0n): UsageAdapterV1PricePlan => ({
      priceRef,
      costDecimals: 9,
      costUnits: (usage) =>
        BigInt(usage.input_tokens) +
        3n * BigInt(usage.output_tokens) +
        2n * BigInt(usage.cached_write_5m_tokens) +
        4n * BigInt(usage.cached_write_1h_tokens) +
        perRequest * BigInt(usage.requests),
    });
    const base = plan('p@base');
    const long = plan('p@base;tier>200000', 7n);
    const result = await write([
      event({ line: 2, price_plan: base, price_ref: base.priceRef, input_tokens: 100, output_tokens: 10 }),
      event({ line: 3, price_plan: long, price_ref: long.priceRef, input_tokens: 300_000, output_tokens: null, requests: 1 }),
      event({ line: 4, price_plan: base, price_ref: base.priceRef, input_tokens: null, output_tokens: 1, cached_write_tokens: 50, cached_write_1h_tokens: 20 }),
      event({ line: 5, computed_cost_usd: '0.5', price_ref: 'q@1' }),
      event({ line: 6, bucket_start: NEXT_HOUR, price_plan: base, price_ref: base.priceRef }),
      event({ line: 7, bucket_start: NEXT_HOUR, unpriced_reason: 'no_price' }),
    ]);
    expect(result).toMatchObject({ cells: 2, partialCostCellCount: 1, unpricedCells: 1 });
    const [priced, partial] = await cells(store());
    // 100 + 30 | 300000 + 7 | 3 + 2·30 + 4·20 | 0.5
    expect(priced).toMatchObject({ cost_usd: '0.50030028', cost_source: 'computed', price_ref: 'per-request:p@base|p@base;tier>200000|q@1' });
    expect(partial).toMatchObject({ cost_usd: null, unpriced_reason: 'per-request:no_price' });
    await expect(write([event({ price_plan: base, computed_cost_usd: '1' })])).rejects.toThrow(/either computed_cost_usd or price_plan/);
  });

  it('replaces the cells on a second import instead of adding to them (invariant 1)', async () => {
    const events = [event({ line: 2, cost_usd: '1' }), event({ line: 3, cost_usd: '2' })];
    await write(events);
    const first = await cells(store());
    const again = await write(events);
    expect(again.rowsWritten).toBe(1);
    expect(await cells(store())).toEqual(first);
  });

  it('counts the cells an earlier import wrote that a changed file no longer has, and deletes them when the file replaces the instance', async () => {
    const first = await write([event({ line: 2 }), event({ line: 3, model: 'gpt-4o-mni' }), event({ line: 4, bucket_start: NEXT_HOUR })]);
    expect(first).toMatchObject({ rowsWritten: 3, storedCellsNotWritten: 0, storedCellsDeleted: 0 });
    // The model name corrected: a new cell; the misspelt one is still stored and would count twice.
    const corrected = [event({ line: 2 }), event({ line: 3, model: 'gpt-4o-mini' }), event({ line: 4, bucket_start: NEXT_HOUR })];
    expect(await write(corrected)).toMatchObject({ rowsWritten: 3, storedCellsNotWritten: 1, storedCellsDeleted: 0 });
    expect((await cells(store())).map((cell) => cell.model)).toEqual(['gpt-4o', 'gpt-4o-mini', 'gpt-4o-mni', 'gpt-4o']);
    // Another instance's cells are not this file's business.
    await store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'other.csv', events: stream([event({ model: 'other' })]) });

    const replaced = await store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'export.csv', events: stream(corrected), replace: true });
    expect(replaced).toMatchObject({ rowsWritten: 3, storedCellsNotWritten: 0, storedCellsDeleted: 1 });
    expect((await cells(store())).map((cell) => cell.model)).toEqual(['gpt-4o', 'gpt-4o-mini', 'other', 'gpt-4o']);
    // The roll-ups follow the delete.
    const [daily] = await store().client.query<{ rows: number }>(`SELECT sum(row_count)::int AS rows FROM "${store().schema}".token_usage_daily`);
    expect(daily?.rows).toBe(4);
  });

  it('keeps a stored computed cost on a re-import of the same tokens, and re-prices it only when told (utt import --reprice)', async () => {
    // The same request quoted a dearer plan: the price changed, the tokens did not.
    const plan = (priceRef: string, nanoUsdPerToken: bigint): UsageAdapterV1PricePlan => ({
      priceRef,
      costDecimals: 9,
      costUnits: (usage) => nanoUsdPerToken * BigInt(usage.input_tokens + usage.output_tokens),
    });
    const cheap = plan('p@base', 1n);
    const dear = plan('p@base', 10n);
    await write([event({ price_plan: cheap, price_ref: cheap.priceRef }), event({ line: 3, bucket_start: NEXT_HOUR, unpriced_reason: 'no_price' })]);
    expect((await cells(store())).map((cell) => cell.cost_usd)).toEqual(['0.000000015', null]);

    // A plain re-import is a replay: a stored cost changes only when asked (invariant: no silent re-pricing of history).
    await write([event({ price_plan: dear, price_ref: dear.priceRef }), event({ line: 3, bucket_start: NEXT_HOUR, price_plan: dear, price_ref: dear.priceRef })]);
    expect((await cells(store())).map((cell) => cell.cost_usd)).toEqual(['0.000000015', '0.00000015']);

    // `utt reprice` leaves per-request cells to a re-import: with reprice, that re-import replaces their cost.
    const result = await store().importUsageEvents({
      sourceSystem: 'manual',
      sourceInstance: 'export.csv',
      events: stream([event({ price_plan: dear, price_ref: dear.priceRef }), event({ line: 3, bucket_start: NEXT_HOUR, price_plan: dear, price_ref: dear.priceRef })]),
      reprice: true,
    });
    expect(result.rowsWritten).toBe(2);
    expect(await cells(store())).toEqual([
      expect.objectContaining({ cost_usd: '0.00000015', cost_source: 'computed', price_ref: 'per-request:p@base' }),
      expect.objectContaining({ cost_usd: '0.00000015', cost_source: 'computed', price_ref: 'per-request:p@base' }),
    ]);
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

  describe('summed in memory and spilled', () => {
    const instance = (limit: number | undefined, events: readonly UsageEvent[], sourceInstance = 'export.csv') =>
      store().importUsageEvents({ sourceSystem: 'manual', sourceInstance, events: stream(events), partialCellLimit: limit });

    /** Events spread over a few cells in an order that makes every small limit spill a cell several times. */
    function mixedEvents(count: number): UsageEvent[] {
      const events: UsageEvent[] = [];
      for (let index = 0; index < count; index++) {
        const hour = new Date(HOUR.getTime() + (index % 5) * 3_600_000);
        const known = (every: number, value: number) => (index % every === 0 ? null : value);
        events.push(
          event({
            line: index + 2,
            bucket_start: hour,
            model: index % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini',
            labels: index % 4 === 0 ? { team: 'a', env: 'prod' } : {},
            input_tokens: known(7, index * 11),
            output_tokens: known(5, index % 9),
            // Known only on some rows of some cells, 0 on others: NULL must stay apart from 0.
            cached_read_tokens: index % 5 === 1 ? (index % 2 === 0 ? 0 : null) : null,
            reasoning_tokens: index % 5 === 1 ? 0 : null,
            requests: 1,
            cost_usd: index % 5 === 3 ? `${index}.${'7'.repeat(index % 20)}` : null,
            computed_cost_usd: index % 5 === 3 ? null : `0.${String(index).padStart(24, '0')}`,
            price_ref: index % 5 === 3 ? null : `price@${index % 3}`,
            measurement_basis: index % 11 === 0 ? 'provider_aggregate' : 'exact',
          }),
        );
      }
      return events;
    }

    /** What the cells must hold, summed straight from the raw events. */
    function expectedCells(events: readonly UsageEvent[]) {
      const sums = new Map<string, { bucket: number; model: string; labels: number; input: bigint | null; output: bigint | null; cachedRead: bigint | null; reasoning: bigint | null; requests: bigint | null; cost: bigint; refs: Set<string> }>();
      const add = (total: bigint | null, value: number | null) => (value === null ? total : (total ?? 0n) + BigInt(value));
      for (const item of events) {
        const key = `${item.bucket_start.getTime()} ${item.model} ${Object.keys(item.labels).length}`;
        const sum = sums.get(key) ?? { bucket: item.bucket_start.getTime(), model: item.model, labels: Object.keys(item.labels).length, input: null, output: null, cachedRead: null, reasoning: null, requests: null, cost: 0n, refs: new Set<string>() };
        sum.input = add(sum.input, item.input_tokens);
        sum.output = add(sum.output, item.output_tokens);
        sum.cachedRead = add(sum.cachedRead, item.cached_read_tokens);
        sum.reasoning = add(sum.reasoning, item.reasoning_tokens);
        sum.requests = add(sum.requests, item.requests);
        const cost = item.cost_usd ?? item.computed_cost_usd ?? '0';
        const [whole, fraction = ''] = cost.split('.');
        sum.cost += BigInt(`${whole}${fraction.padEnd(30, '0')}`);
        if (item.price_ref) sum.refs.add(item.price_ref);
        sums.set(key, sum);
      }
      const text = (value: bigint | null) => (value === null ? null : Number(value));
      return [...sums.values()].map((sum) => {
        const digits = sum.cost.toString().padStart(31, '0');
        const cost = `${digits.slice(0, -30)}.${digits.slice(-30)}`.replace(/0+$/, '').replace(/\.$/, '');
        return {
          key: `${new Date(sum.bucket).toISOString()} ${sum.model} ${sum.labels}`,
          input_tokens: text(sum.input),
          output_tokens: text(sum.output),
          cached_read_tokens: text(sum.cachedRead),
          reasoning_tokens: text(sum.reasoning),
          requests: text(sum.requests),
          cost_usd: cost,
          price_ref: sum.refs.size === 0 ? null : `per-request:${[...sum.refs].sort().join('|')}`,
        };
      });
    }

    const comparable = (stored: StoredCell[]) =>
      stored.map((cell) => ({
        key: `${cell.bucket_start.toISOString()} ${cell.model} ${Object.keys(cell.labels).length}`,
        input_tokens: cell.input_tokens,
        output_tokens: cell.output_tokens,
        cached_read_tokens: cell.cached_read_tokens,
        reasoning_tokens: cell.reasoning_tokens,
        requests: cell.requests,
        cost_usd: cell.cost_usd,
        price_ref: cell.price_ref,
      }));
    const sortByKey = <T extends { key: string; price_ref: string | null }>(rows: T[]) => [...rows].sort((a, b) => `${a.key} ${a.price_ref}`.localeCompare(`${b.key} ${b.price_ref}`));

    it('gives the same cells when spills never split a cell (no GROUP BY then), equal to the sum of the raw events', async () => {
      // Each cell's events in one stretch, as in an export sorted by time: spilled often, yet no cell is met again.
      const cellKey = (item: UsageEvent) => `${item.bucket_start.getTime()} ${item.model} ${Object.keys(item.labels).length}`;
      const events = [...mixedEvents(240)].sort((a, b) => cellKey(a).localeCompare(cellKey(b)) || a.line - b.line);
      const expected = sortByKey(expectedCells(events));
      for (const limit of [1, 2, 3]) {
        await clearTables(store());
        const result = await instance(limit, events);
        expect(result.cells, `limit ${limit}`).toBe(expected.length);
        expect(sortByKey(comparable(await cells(store()))), `limit ${limit}`).toEqual(expected);
      }
    });

    it('gives the same cells at any spill threshold, equal to the sum of the raw events', async () => {
      const events = mixedEvents(240);
      const expected = sortByKey(expectedCells(events));
      const results = [];
      for (const limit of [undefined, 1, 2, 3, 7]) {
        await clearTables(store());
        results.push(await instance(limit, events));
        const stored = await cells(store());
        expect(sortByKey(comparable(stored)), `limit ${limit}`).toEqual(expected);
        expect(stored.map((cell) => cell.measurement_basis)).toContain('provider_aggregate');
      }
      // In batches, as readImportEvents hands them over.
      async function* batches(): AsyncGenerator<UsageEvent[]> {
        for (let start = 0; start < events.length; start += 7) yield events.slice(start, start + 7);
      }
      await clearTables(store());
      results.push(await store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'export.csv', events: batches(), partialCellLimit: 4 }));
      expect(sortByKey(comparable(await cells(store())))).toEqual(expected);
      const [unspilled, ...spilled] = results;
      for (const result of spilled) expect(result).toEqual(unspilled);
      expect(unspilled).toMatchObject({ events: 240, cells: expected.length, rowsWritten: expected.length });
    });

    it('keeps a counter NULL only when no event of any spill knew it, and 0 when one said 0', async () => {
      const events = [
        event({ line: 2, cached_read_tokens: null, reasoning_tokens: null }),
        event({ line: 3, bucket_start: NEXT_HOUR }),
        event({ line: 4, cached_read_tokens: 0, reasoning_tokens: null }),
        event({ line: 5, bucket_start: NEXT_HOUR }),
        event({ line: 6, cached_read_tokens: null, reasoning_tokens: null }),
      ];
      await instance(1, events);
      const [first, second] = await cells(store());
      expect(first).toMatchObject({ cached_read_tokens: 0, reasoning_tokens: null, input_tokens: 30, requests: 3 });
      expect(second).toMatchObject({ cached_read_tokens: null, reasoning_tokens: null, input_tokens: 20 });
    });

    it('keeps the first unpriced reason by line and the distinct prices across spills', async () => {
      await instance(1, [
        event({ line: 2, unpriced_reason: 'no_price' }),
        event({ line: 3, bucket_start: NEXT_HOUR, computed_cost_usd: '0.1', price_ref: 'p@2' }),
        event({ line: 4, unpriced_reason: 'missing_rate:cacheWrite' }),
        event({ line: 5, bucket_start: NEXT_HOUR, computed_cost_usd: '0.2', price_ref: 'p@1' }),
        event({ line: 6, bucket_start: NEXT_HOUR, computed_cost_usd: '0.3', price_ref: 'p@2' }),
      ]);
      const [unpriced, priced] = await cells(store());
      expect(unpriced).toMatchObject({ cost_usd: null, unpriced_reason: 'per-request:no_price' });
      expect(priced).toMatchObject({ cost_usd: '0.6', price_ref: 'per-request:p@1|p@2' });
    });

    it('refuses a cell whose sum breaks a rule only across spills', async () => {
      const events = [event({ line: 2, output_tokens: null, reasoning_tokens: 8 }), event({ line: 3, bucket_start: NEXT_HOUR }), event({ line: 4, output_tokens: 3 })];
      await expect(instance(1, events)).rejects.toSatisfy(
        (error) => InvalidRecordError.isInstance(error) && /reasoning_tokens: is part of output_tokens.*line 2/.test(error.message),
      );
      expect(await cells(store())).toEqual([]);
    });

    it('refuses a cell whose counter passes 2^53 - 1 only in the sum, whether summed in memory or in the database', async () => {
      const big = Number.MAX_SAFE_INTEGER - 10;
      for (const limit of [undefined, 1]) {
        await expect(instance(limit, [event({ line: 2, input_tokens: big }), event({ line: 3, input_tokens: big }), event({ line: 4, input_tokens: big })])).rejects.toSatisfy(
          (error) => InvalidRecordError.isInstance(error) && /input_tokens: too large/.test(error.message),
        );
      }
      expect(await cells(store())).toEqual([]);
    });

    it('rolls back everything spilled before a bad line', async () => {
      await instance(undefined, [event({ line: 2, cost_usd: '5' })], 'other.csv');
      const before = await cells(store());
      async function* failingAfterSpills(): AsyncGenerator<UsageEvent> {
        for (let line = 2; line < 500; line++) yield event({ line, bucket_start: new Date(HOUR.getTime() + (line % 40) * 3_600_000) });
        throw new Error('export.csv:500: input_tokens: expected a whole number');
      }
      await expect(
        store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'export.csv', events: failingAfterSpills(), partialCellLimit: 3 }),
      ).rejects.toThrow('export.csv:500');
      expect(await cells(store())).toEqual(before);
    });

    it('refuses a cost that is not a plain decimal, naming its line', async () => {
      await expect(instance(undefined, [event({ line: 9, cost_usd: '1e5' })])).rejects.toThrow(/line 9: cost_usd "1e5"/);
      expect(await cells(store())).toEqual([]);
    });
  });
});
