import { InvalidRecordError, toUsageRow, type UsageRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreArgumentError } from './store-argument-error';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { hourlyRows, usageRow } from './test-support/usage-rows';
import { ROWS_PER_STATEMENT } from './upsert-usage-rows';
import type { SqlClient } from './sql-client';
import type { UsageStore } from './usage-store';

const SOURCE = 'openai-main';
const SYSTEM = 'test_system';
const WINDOW_START = new Date('2025-03-01T00:00:00Z');

type StoredRow = {
  bucket_start: Date;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cost_usd: string | null;
  created_at: Date;
  updated_at: Date;
};

async function storedRows(store: UsageStore): Promise<StoredRow[]> {
  return store.client.query<StoredRow>(
    `SELECT bucket_start, input_tokens, output_tokens, cached_read_tokens, cost_usd, created_at, updated_at
     FROM "${store.schema}".token_usage ORDER BY bucket_start, id`,
  );
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Runs `insert` in a transaction on a connection of its own (no advisory
 * lock, as another writer would) and holds it open, its rows uncommitted,
 * until `commit()`.
 */
async function holdUncommitted(store: UsageStore, insert: (tx: SqlClient) => Promise<unknown>): Promise<{ commit(): Promise<void> }> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let inserted: () => void = () => {};
  const insertedOther = new Promise<void>((resolve) => {
    inserted = resolve;
  });
  const other = store.client.transaction(async (tx) => {
    await insert(tx);
    inserted();
    await released;
  });
  await insertedOther;
  return {
    async commit() {
      release();
      await other;
    },
  };
}

/** Waits (up to 2 s) until a session's INSERT into `table` waits on a lock, as one meeting an uncommitted key does. */
async function untilInsertWaits(store: UsageStore, table: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const [waiting] = await store.client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "${store.schema}".${table}%'`,
    );
    if ((waiting?.count ?? 0) > 0) return;
    await pause(20);
  }
}

describe.each(TEST_BACKENDS)('writeSourceWindow on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  it('replaces rows on a second write of the same window instead of adding to them (invariant 1)', async () => {
    const rows = hourlyRows(24, WINDOW_START, { output_tokens: 7 });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    const first = await storedRows(store());
    await pause(20);
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    const second = await storedRows(store());

    expect(second).toHaveLength(24);
    expect(second.map(({ input_tokens, output_tokens }) => ({ input_tokens, output_tokens }))).toEqual(
      first.map(({ input_tokens, output_tokens }) => ({ input_tokens, output_tokens })),
    );
    second.forEach((row, index) => {
      const before = first[index];
      expect(row.created_at).toEqual(before?.created_at);
      expect(row.updated_at.getTime()).toBeGreaterThan(before?.updated_at.getTime() ?? Number.POSITIVE_INFINITY);
    });

    // A revised number replaces the old one; it is not added to it.
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ bucket_start: WINDOW_START, input_tokens: 1000, output_tokens: 7 })],
    });
    const revised = await storedRows(store());
    expect(revised).toHaveLength(24);
    expect(revised[0]?.input_tokens).toBe(1000);
  });

  it('keeps NULL and 0 apart (invariant 2)', async () => {
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [
        usageRow({ bucket_start: WINDOW_START, input_tokens: 0, cached_read_tokens: null }),
        usageRow({ bucket_start: new Date('2025-03-01T01:00:00Z'), input_tokens: null, cached_read_tokens: 0 }),
      ],
    });
    const rows = await storedRows(store());
    expect(rows.map(({ input_tokens, cached_read_tokens }) => ({ input_tokens, cached_read_tokens }))).toEqual([
      { input_tokens: 0, cached_read_tokens: null },
      { input_tokens: null, cached_read_tokens: 0 },
    ]);
  });

  it("treats '' dimensions and {} labels as equal in the conflict key, and labels regardless of key order (invariant 5)", async () => {
    const bare = usageRow({ bucket_start: WINDOW_START, model: '', account: '', api_key: '', user_id: '', input_tokens: 1 });
    const labelled = usageRow({ bucket_start: WINDOW_START, labels: { team: 'a', env: 'prod' }, input_tokens: 1 });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [bare, labelled] });
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [
        { ...bare, input_tokens: 2 },
        { ...labelled, labels: { env: 'prod', team: 'a' }, input_tokens: 2 },
      ],
    });
    const rows = await storedRows(store());
    expect(rows.map((row) => row.input_tokens)).toEqual([2, 2]);
  });

  it('accepts rows validated by core', async () => {
    const row = toUsageRow(
      { granularity: 'day', bucket_start: '2025-03-01T00:00:00Z', provider: 'anthropic', model: 'claude', input_tokens: 5, measurement_basis: 'exact' },
      { sourceSystem: SYSTEM, defaultInstance: 'org-1' },
    );
    expect(await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [row] })).toEqual({ rowsWritten: 1 });
    const [stored] = await store().client.query<{ source_instance: string; labels: unknown; account: string }>(
      `SELECT source_instance, labels, account FROM "${store().schema}".token_usage`,
    );
    expect(stored).toEqual({ source_instance: 'org-1', labels: {}, account: '' });
  });

  it('stores every value exactly as given: text that needs escaping, labels, large counters, NULL apart from 0, costs to the last decimal', async () => {
    const rows = [
      usageRow({
        bucket_start: WINDOW_START,
        source_instance: 'alice@laptop "quoted" \\ back\nslash',
        model: 'modèle-ünïcode-😀',
        account: "o'brien",
        api_key: 'key_alias',
        user_id: 'user-7',
        labels: { session: 'a"b\\c', 'emoji 😀': 'tab\tline\u2028end', empty: '' },
        input_tokens: Number.MAX_SAFE_INTEGER,
        output_tokens: 5,
        cached_read_tokens: null,
        cached_write_tokens: 12,
        cached_write_1h_tokens: 7,
        reasoning_tokens: 3,
        requests: 2,
        cost_usd: '123456789.123456789012345678',
        cost_source: 'computed',
        price_ref: 'genai-prices@0.1.8:anthropic/x@base;tier>200000',
        unpriced_reason: null,
      }),
      usageRow({ bucket_start: new Date(WINDOW_START.getTime() + 3_600_000), granularity: 'hour', input_tokens: 0, cost_usd: null, cost_source: null, measurement_basis: 'derived_estimate', unpriced_reason: 'no_price' }),
    ];
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    const stored = await store().client.query<Record<string, unknown>>(
      `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
              input_tokens::text, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
              cost_usd::text, cost_source, measurement_basis, price_ref, unpriced_reason
       FROM "${store().schema}".token_usage ORDER BY bucket_start`,
    );
    expect(stored).toEqual(
      rows.map((row) => ({
        ...row,
        input_tokens: row.input_tokens === null ? null : String(row.input_tokens),
        price_ref: row.price_ref ?? null,
        unpriced_reason: row.unpriced_reason ?? null,
      })),
    );
  });

  it("stores each row's own value of the columns a batch's rows usually share, whether all rows share them or one row differs in one", async () => {
    // Rows of a batch that share these columns send them once; a row differing in any one sends every column of its batch per row.
    const differing: Array<Partial<UsageRow>> = [
      {},
      { source_instance: 'other-instance' },
      { granularity: 'day' },
      { provider: 'anthropic' },
      { account: 'acct' },
      { api_key: 'key' },
      { user_id: 'user' },
      { cost_usd: '0.5', cost_source: 'provider' },
      { measurement_basis: 'derived_estimate' },
      { unpriced_reason: 'no_price' },
    ];
    const written: UsageRow[] = [];
    for (const [group, change] of differing.entries()) {
      const day = WINDOW_START.getTime() + group * 86_400_000;
      const shared = { cost_usd: '0.25', cost_source: 'computed' as const, price_ref: `ref-${group}` };
      const rows = [
        usageRow({ bucket_start: new Date(day), input_tokens: 1, ...shared }),
        // No unpriced_reason at all, where the row before has none either: the same as null.
        { ...usageRow({ bucket_start: new Date(day + 3_600_000), input_tokens: 2, labels: { a: 'b' }, ...shared }), unpriced_reason: null },
        // A day's bucket starts at midnight; granularity is in the conflict key.
        usageRow({ bucket_start: new Date(change.granularity ? day : day + 7_200_000), input_tokens: 3, ...shared, ...(change.unpriced_reason ? { cost_usd: null, cost_source: null, price_ref: null } : {}), ...change }),
      ];
      await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
      for (const row of rows) written.push(row);
    }
    const stored = await store().client.query<Record<string, unknown>>(
      `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
              input_tokens, cost_usd::text, cost_source, measurement_basis, price_ref, unpriced_reason
       FROM "${store().schema}".token_usage ORDER BY input_tokens, bucket_start, granularity`,
    );
    written.sort((a, b) => (a.input_tokens as number) - (b.input_tokens as number) || a.bucket_start.getTime() - b.bucket_start.getTime() || a.granularity.localeCompare(b.granularity));
    expect(stored).toEqual(
      written.map((row) => ({
        source_system: row.source_system,
        source_instance: row.source_instance,
        granularity: row.granularity,
        bucket_start: row.bucket_start,
        provider: row.provider,
        model: row.model,
        account: row.account,
        api_key: row.api_key,
        user_id: row.user_id,
        labels: row.labels,
        input_tokens: row.input_tokens,
        cost_usd: row.cost_usd,
        cost_source: row.cost_source,
        measurement_basis: row.measurement_basis,
        price_ref: row.price_ref ?? null,
        unpriced_reason: row.unpriced_reason ?? null,
      })),
    );
  });

  it('writes rows, watermark and status together, in statements of many rows', async () => {
    const count = ROWS_PER_STATEMENT * 2 + 500;
    const rows = hourlyRows(count, new Date('2024-01-01T00:00:00Z'));
    const now = new Date('2025-03-02T00:05:00Z');
    const result = await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows,
      watermark: { at: new Date('2025-03-02T00:00:00Z'), granularity: 'hour' },
      status: { status: 'ok' },
      now,
    });
    expect(result).toEqual({ rowsWritten: count });
    const [{ total } = { total: 0 }] = await store().client.query<{ total: number }>(
      `SELECT COUNT(*) AS total FROM "${store().schema}".token_usage`,
    );
    expect(total).toBe(count);
    expect(await store().getWatermark(SOURCE)).toEqual(new Date('2025-03-02T00:00:00Z'));
    expect(await store().listWatermarks()).toEqual([
      { source: SOURCE, sourceSystem: SYSTEM, granularity: 'hour', watermark: new Date('2025-03-02T00:00:00Z'), updatedAt: now },
    ]);
    expect(await store().listStatus()).toEqual([
      {
        source: SOURCE,
        sourceSystem: SYSTEM,
        status: 'ok',
        lastRunAt: now,
        lastSuccessAt: now,
        lastError: null,
        rowsWritten: count,
        updatedAt: now,
      },
    ]);
  });

  it('stores each row at its own bucket when rows share Date objects, interleave them and cross statements, on a first write and a later one', async () => {
    // Rows of one bucket sharing its Date (as an agent-log ledger's cells do), runs of them split across
    // statements, a bucket coming back after others, and equal instants in Dates of their own.
    const dates = Array.from({ length: 7 }, (_, index) => new Date(Date.UTC(2025, 2, 1, index)));
    const rows = Array.from({ length: ROWS_PER_STATEMENT + 700 }, (_, index) => {
      const bucket = Math.floor(index / 999) % 7;
      const date = index % 5 === 0 ? new Date((dates[bucket] as Date).getTime()) : (dates[bucket] as Date);
      return usageRow({ bucket_start: date, model: `m${index}`, input_tokens: index });
    });
    const expected = rows.map((row) => [row.model, row.bucket_start.toISOString()]).sort();
    const stored = async () =>
      (
        await store().client.query<{ model: string; bucket_start: Date }>(`SELECT model, bucket_start FROM "${store().schema}".token_usage`)
      )
        .map((row) => [row.model, row.bucket_start.toISOString()])
        .sort();
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    expect(await stored()).toEqual(expected);
    // A later write (upserts) of the same rows, the earliest and latest buckets probed from shared Dates.
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: rows.map((row) => ({ ...row, input_tokens: 1 })) });
    expect(await stored()).toEqual(expected);
    const [{ total } = { total: 0 }] = await store().client.query<{ total: number }>(
      `SELECT SUM(input_tokens)::bigint AS total FROM "${store().schema}".token_usage`,
    );
    expect(total).toBe(rows.length);
  });

  it('writes nothing when the last statement fails: rows, watermark and status stay as they were (invariant 12)', async () => {
    const firstNow = new Date('2025-03-01T12:00:00Z');
    const original = hourlyRows(ROWS_PER_STATEMENT * 2 + 1, WINDOW_START, { output_tokens: 1 });
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: original,
      watermark: { at: new Date('2025-03-01T12:00:00Z'), granularity: 'hour' },
      status: { status: 'ok' },
      now: firstNow,
    });
    const before = await storedRows(store());

    const revised: UsageRow[] = original.map((row) => ({ ...row, output_tokens: 2 }));
    // The very last row breaks a CHECK constraint, so the third statement fails
    // after two have succeeded inside the transaction.
    const last = revised.length - 1;
    revised[last] = { ...original[last]!, input_tokens: -1 };
    await expect(
      store().writeSourceWindow({
        source: SOURCE,
        sourceSystem: SYSTEM,
        rows: revised,
        watermark: { at: new Date('2025-03-05T00:00:00Z'), granularity: 'hour' },
        status: { status: 'ok' },
        now: new Date('2025-03-05T00:05:00Z'),
      }),
    ).rejects.toThrow(/token_usage_input_tokens_check/);

    expect(await storedRows(store())).toEqual(before);
    expect(await store().getWatermark(SOURCE)).toEqual(new Date('2025-03-01T12:00:00Z'));
    const [status] = await store().listStatus();
    expect(status?.lastSuccessAt).toEqual(firstNow);
    expect(status?.rowsWritten).toBe(original.length);
  });

  it('refuses an unaligned watermark and writes nothing', async () => {
    const write = store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ input_tokens: 1 })],
      watermark: { at: new Date('2025-03-01T10:30:00Z'), granularity: 'hour' },
      status: { status: 'ok' },
    });
    await expect(write).rejects.toThrow(StoreArgumentError);
    await expect(write).rejects.toThrow(/watermark\.at: 2025-03-01T10:30:00\.000Z is not the start of a UTC hour/);
    expect(await storedRows(store())).toEqual([]);
    expect(await store().getWatermark(SOURCE)).toBeNull();
    expect(await store().listStatus()).toEqual([]);
  });

  it('tells conflict keys apart exactly: label order does not matter, text that looks like a separator does', async () => {
    const same = store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ labels: { a: '1', b: '2' } }), usageRow({ labels: { b: '2', a: '1' } })],
    });
    await expect(same).rejects.toThrow(/rows\[1\]: same conflict key as rows\[0\]/);
    // Texts whose concatenations would collide without their lengths are different keys.
    const rows = [
      usageRow({ model: 'a1:b', account: '' }),
      usageRow({ model: 'a', account: '1:b' }),
      usageRow({ labels: { 'x1:y': '' } }),
      usageRow({ labels: { x: '1:y' } }),
      usageRow({ labels: { x: '' } }),
      usageRow({ labels: {} }),
      usageRow({ bucket_start: new Date('2025-03-01T11:00:00Z') }),
    ];
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    expect(await storedRows(store())).toHaveLength(rows.length);
  });

  it('refuses two rows with the same conflict key, naming both', async () => {
    const write = store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ input_tokens: 1 }), usageRow({ model: 'other' }), usageRow({ input_tokens: 2 })],
    });
    await expect(write).rejects.toSatisfy(InvalidRecordError.isInstance);
    await expect(write).rejects.toThrow(/rows\[2\]: same conflict key as rows\[0\]/);
    expect(await storedRows(store())).toEqual([]);
  });

  it('refuses two rows with the same conflict key in different statements, on a first write and on a later one', async () => {
    // A first write leaves the check to the table's unique index (its plain
    // INSERT fails, and the write is checked before it is tried again); a
    // later write, as upserts, is checked before it inserts. Neither lets the
    // later row replace the earlier.
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, WINDOW_START);
    const twin = { ...(rows[3] as UsageRow), input_tokens: 999 };
    rows.push(twin);
    const refused = (error: unknown) => InvalidRecordError.isInstance(error) && new RegExp(`rows\\[${rows.length - 1}\\]: same conflict key as rows\\[3\\]`).test(error.message);
    await expect(store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows, state: { set: new Map([['k', 1]]), deleted: [] } })).rejects.toSatisfy(refused);
    expect(await storedRows(store())).toEqual([]);
    expect(await store().loadSourceState(SOURCE)).toEqual(new Map());
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: rows.slice(0, 5) });
    await expect(store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows })).rejects.toSatisfy(refused);
    expect((await storedRows(store())).map((row) => row.input_tokens)).toEqual(rows.slice(0, 5).map((row) => row.input_tokens));
  });

  it("refuses rows of another source_system and the heartbeat's reserved name", async () => {
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow({ source_system: 'other' })] }),
    ).rejects.toThrow(/rows\[0\]\.source_system: is "other" but the write is for "test_system"/);
    await expect(store().writeSourceWindow({ source: '__heartbeat__', sourceSystem: SYSTEM, rows: [] })).rejects.toThrow(
      /write\.source: "__heartbeat__" is reserved/,
    );
  });

  it('returns BIGINT counters above 2^31 as exact numbers', async () => {
    const large = 3_000_000_000;
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [
        usageRow({ input_tokens: large }),
        usageRow({ bucket_start: new Date('2025-03-01T11:00:00Z'), input_tokens: Number.MAX_SAFE_INTEGER }),
      ],
    });
    const rows = await storedRows(store());
    expect(rows.map((row) => row.input_tokens)).toEqual([large, Number.MAX_SAFE_INTEGER]);
    expect(typeof rows[0]?.input_tokens).toBe('number');
  });

  it('writes rows as upserts after all when a row of the same key appears between the probe for stored rows and the insert', async () => {
    // A cold write probes for stored rows and, finding none, inserts without
    // the upsert's conflict handling; another writer of the same keys (here a
    // transaction on a second connection, which takes no advisory lock) commits
    // in between: the insert meets its key, and the write is done again as upserts.
    if (backend.name !== 'postgres') return;
    const rows = hourlyRows(3, WINDOW_START, { output_tokens: 9 });
    const other = await holdUncommitted(store(), async (tx) => {
      const row = rows[1] as UsageRow;
      await tx.query(
        `INSERT INTO "${store().schema}".token_usage (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels, input_tokens, output_tokens, measurement_basis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, 1, 1, 'exact')`,
        [row.source_system, row.source_instance, row.granularity, row.bucket_start, row.provider, row.model, row.account, row.api_key, row.user_id, JSON.stringify(row.labels)],
      );
    });
    const write = store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows, status: { status: 'ok' } });
    // Let the write probe (it sees nothing committed) and wait on the uncommitted key.
    await untilInsertWaits(store(), 'token_usage');
    await other.commit();
    expect(await write).toEqual({ rowsWritten: 3 });
    const stored = await storedRows(store());
    expect(stored.map((row) => [row.input_tokens, row.output_tokens])).toEqual(rows.map((row) => [row.input_tokens, 9]));
    const [daily] = await store().client.query<{ output: string; row_count: string }>(
      `SELECT sum(output_tokens)::text AS output, sum(row_count)::text AS row_count FROM "${store().schema}".token_usage_daily`,
    );
    expect(daily).toEqual({ output: '27', row_count: '3' });
  });

  it("writes the state as upserts after all when a key of the source appears between the probe for stored state and the insert", async () => {
    // A source's first write probes for stored state and, finding none,
    // inserts its keys without the upsert's conflict handling; another writer
    // (a second connection, no advisory lock) commits one of those keys in
    // between: the insert meets it, and the write is done again as upserts.
    if (backend.name !== 'postgres') return;
    const other = await holdUncommitted(store(), (tx) =>
      tx.query(`INSERT INTO "${store().schema}".source_state (source, key, value) VALUES ($1, 'b', '"theirs"'::jsonb)`, [SOURCE]),
    );
    const state = new Map<string, unknown>([
      ['a', { offset: 1 }],
      ['b', 'ours'],
    ]);
    const write = store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: hourlyRows(2, WINDOW_START), state: { set: state, deleted: [] } });
    await untilInsertWaits(store(), 'source_state');
    await other.commit();
    expect(await write).toEqual({ rowsWritten: 2 });
    expect(await store().loadSourceState(SOURCE)).toEqual(state);
    expect(await storedRows(store())).toHaveLength(2);
  });

  it('keeps cost_usd exact as a decimal string', async () => {
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ input_tokens: 1, cost_usd: '0.000000000000000001', cost_source: 'computed' })],
    });
    const [row] = await storedRows(store());
    expect(row?.cost_usd).toBe('0.000000000000000001');
  });
});
