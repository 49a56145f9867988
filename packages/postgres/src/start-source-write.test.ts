import { InvalidRecordError, type UsageRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { hourlyRows, usageRow } from './test-support/usage-rows';
import { ROWS_PER_STATEMENT } from './upsert-usage-rows';
import type { UsageStore } from './usage-store';

const SOURCE = 'claude-laptop';
const SYSTEM = 'test_system';
const START = new Date('2025-03-01T00:00:00Z');
const NOW = new Date('2025-06-01T00:05:00Z');
const WATERMARK = { at: new Date('2025-06-01T00:00:00Z'), granularity: 'hour' } as const;

/** Everything a source's write leaves: rows, the daily roll-up, state, watermark, status. */
async function written(store: UsageStore) {
  const schema = `"${store.schema}"`;
  const rows = await store.client.query<{ bucket_start: Date; input_tokens: number | null; output_tokens: number | null }>(
    `SELECT bucket_start, input_tokens, output_tokens FROM ${schema}.token_usage ORDER BY bucket_start, model`,
  );
  const daily = await store.client.query<{ day_start: Date; input: string; row_count: string }>(
    `SELECT day_start, sum(input_tokens)::text AS input, sum(row_count)::text AS row_count FROM ${schema}.token_usage_daily GROUP BY day_start ORDER BY day_start`,
  );
  return { rows, daily, state: await store.loadSourceState(SOURCE), watermark: await store.getWatermark(SOURCE), status: await store.listStatus() };
}

/** Runs `insert` in a transaction of its own (no advisory lock, as another writer would) and holds it open until `commit()`. */
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

describe.each(TEST_BACKENDS)('startSourceWrite on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  const state = () => ({
    set: new Map<string, unknown>([
      ['cursor/a', { offset: 10 }],
      ['cursor/b', 'text'],
    ]),
    deleted: [],
  });

  /** The rows of a first write, sent ahead a statement's worth at a time, the last ones left to finish(). */
  async function writeStarted(rows: readonly UsageRow[], rest: Partial<Parameters<ReturnType<UsageStore['startSourceWrite']>['finish']>[0]> = {}) {
    const write = store().startSourceWrite({ source: SOURCE, sourceSystem: SYSTEM, sourceInstances: [''] });
    await write.opened;
    const ahead = write.sendsRowsAhead();
    for (let start = 0; start + ROWS_PER_STATEMENT < rows.length; start += ROWS_PER_STATEMENT) {
      await write.sendRows(rows.slice(start, start + ROWS_PER_STATEMENT));
    }
    return { ahead, result: await write.finish({ rows, state: state(), watermark: WATERMARK, status: { status: 'ok' }, now: NOW, ...rest }) };
  }

  it('writes what writeSourceWindow writes, rows sent ahead on a first write to a server', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT * 2 + 10, START, { output_tokens: 3 });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows, state: state(), watermark: WATERMARK, status: { status: 'ok' }, now: NOW });
    const expected = await written(store());
    await clearTables(store());

    const { ahead, result } = await writeStarted(rows);
    expect(ahead).toBe(backend.name === 'postgres');
    expect(result).toEqual({ rowsWritten: rows.length });
    expect(await written(store())).toEqual(expected);
  });

  it('writes a later write of stored hours as upserts: nothing goes ahead, rows are replaced', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, START, { output_tokens: 3 });
    await writeStarted(rows);
    const revised = rows.map((row) => ({ ...row, output_tokens: 4 }));
    const { ahead } = await writeStarted(revised);
    expect(ahead).toBe(false);
    const after = await written(store());
    expect(after.rows).toHaveLength(rows.length);
    expect(after.rows.every((row) => row.output_tokens === 4)).toBe(true);
  });

  it('leaves nothing when abandoned after rows were sent, and the store goes on', async () => {
    const write = store().startSourceWrite({ source: SOURCE, sourceSystem: SYSTEM, sourceInstances: [''] });
    await write.opened;
    // The second chunk waits for the first: abandoned then, it must never run (after the ROLLBACK it would commit on its own).
    const rows = hourlyRows(ROWS_PER_STATEMENT * 2, START);
    await write.sendRows(rows.slice(0, ROWS_PER_STATEMENT));
    await write.sendRows(rows.slice(ROWS_PER_STATEMENT));
    await write.abandon();
    expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
    await expect(write.finish({ rows: [] })).rejects.toThrow(/already been finished or abandoned/);
    // The transaction has ended: its connection (PGlite: the database) is free.
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'refused', now: NOW });
    expect((await store().listStatus()).map((status) => status.status)).toEqual(['error']);
  });

  it('leaves nothing when finish() refuses the rest after rows were sent: a row of another source_system, an unaligned watermark', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, START);
    rows.push(usageRow({ source_system: 'other', bucket_start: new Date('2025-05-01T00:00:00Z') }));
    await expect(writeStarted(rows)).rejects.toThrow(/rows\[5010\]\.source_system: is "other" but the write is for "test_system"/);
    expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
    const refused = writeStarted(hourlyRows(ROWS_PER_STATEMENT + 10, START), { watermark: { at: new Date('2025-06-01T00:30:00Z'), granularity: 'hour' } });
    await expect(refused).rejects.toSatisfy((error: unknown) => StoreArgumentError.isInstance(error));
    expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
  });

  it('leaves nothing when a statement fails after rows were sent (a CHECK constraint in the last chunk)', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT * 2 + 10, START);
    rows[rows.length - 1] = { ...(rows[rows.length - 1] as UsageRow), input_tokens: -1 };
    await expect(writeStarted(rows)).rejects.toThrow(/token_usage_input_tokens_check/);
    expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
  });

  it('refuses two rows with one conflict key sent in different chunks, as writeSourceWindow does (tried again as upserts, checked)', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, START);
    rows.push({ ...(rows[3] as UsageRow), input_tokens: 999 });
    const refused = (error: unknown) => InvalidRecordError.isInstance(error) && /rows\[5010\]: same conflict key as rows\[3\]/.test(error.message);
    await expect(writeStarted(rows)).rejects.toSatisfy(refused);
    expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
  });

  it('refuses rows given to finish() that do not begin with those sent ahead, and writes nothing', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, START);
    const write = store().startSourceWrite({ source: SOURCE, sourceSystem: SYSTEM, sourceInstances: [''] });
    await write.opened;
    await write.sendRows(rows.slice(0, ROWS_PER_STATEMENT));
    const expected = write.sendsRowsAhead() ? /rows\[0\] is not the row sent ahead/ : undefined;
    const finishing = write.finish({ rows: rows.map((row) => ({ ...row })), status: { status: 'ok' }, now: NOW });
    if (expected) {
      await expect(finishing).rejects.toThrow(expected);
      expect(await written(store())).toEqual({ rows: [], daily: [], state: new Map(), watermark: null, status: [] });
    } else {
      // Nothing was sent ahead (PGlite): finish() writes the rows it is given.
      await finishing;
      expect((await written(store())).rows).toHaveLength(rows.length);
    }
  });

  it('takes the lock of an instance nobody expected before its rows go ahead', async () => {
    const rows = hourlyRows(ROWS_PER_STATEMENT + 10, START, { source_instance: 'elsewhere' });
    const { result } = await writeStarted(rows);
    expect(result).toEqual({ rowsWritten: rows.length });
    expect((await written(store())).rows).toHaveLength(rows.length);
  });

  it('writes rows as upserts after all when a row of the same key appears between the probe and the rows sent ahead', async () => {
    if (backend.name !== 'postgres') return;
    const rows = hourlyRows(ROWS_PER_STATEMENT + 3, START, { output_tokens: 9 });
    const other = await holdUncommitted(store(), async (tx) => {
      const row = rows[1] as UsageRow;
      await tx.query(
        `INSERT INTO "${store().schema}".token_usage (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels, input_tokens, output_tokens, measurement_basis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, 1, 1, 'exact')`,
        [row.source_system, row.source_instance, row.granularity, row.bucket_start, row.provider, row.model, row.account, row.api_key, row.user_id, JSON.stringify(row.labels)],
      );
    });
    const write = store().startSourceWrite({ source: SOURCE, sourceSystem: SYSTEM, sourceInstances: [''] });
    await write.opened;
    // The probe saw nothing committed: the rows go ahead as plain INSERTs, and the first chunk waits on the uncommitted key.
    expect(write.sendsRowsAhead()).toBe(true);
    await write.sendRows(rows.slice(0, ROWS_PER_STATEMENT));
    const finishing = write.finish({ rows, state: state(), status: { status: 'ok' }, now: NOW });
    await other.commit();
    expect(await finishing).toEqual({ rowsWritten: rows.length });
    const after = await written(store());
    expect(after.rows.map((row) => [row.input_tokens, row.output_tokens])).toEqual(rows.map((row) => [row.input_tokens, 9]));
    expect(after.state).toEqual(state().set);
    expect(after.daily.reduce((sum, day) => sum + Number(day.row_count), 0)).toBe(rows.length);
  });
});
