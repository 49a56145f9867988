import { beforeEach, describe, expect, it } from 'vitest';
import { storeTables } from './schema-name';
import { heartbeat, HEARTBEAT_SOURCE, recordSourceSuccess } from './source-status';
import { StoreArgumentError } from './store-argument-error';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';

const SOURCE = 'anthropic-main';
const SYSTEM = 'anthropic_api';

describe.each(TEST_BACKENDS)('source status on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  it('records a failure without losing the last success', async () => {
    const success = new Date('2025-03-01T10:00:00Z');
    const failure = new Date('2025-03-01T11:00:00Z');
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ source_system: SYSTEM, input_tokens: 1 })],
      status: { status: 'ok' },
      now: success,
    });
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'HTTP 503 from the usage API', now: failure });

    expect(await store().listStatus()).toEqual([
      {
        source: SOURCE,
        sourceSystem: SYSTEM,
        status: 'error',
        lastRunAt: failure,
        lastSuccessAt: success,
        lastError: 'HTTP 503 from the usage API',
        rowsWritten: 1,
        updatedAt: failure,
      },
    ]);

    // The next success clears the error.
    const recovery = new Date('2025-03-01T12:00:00Z');
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [], status: { status: 'ok', rowsWritten: 0 }, now: recovery });
    const [status] = await store().listStatus();
    expect(status).toMatchObject({ status: 'ok', lastError: null, lastSuccessAt: recovery, rowsWritten: 0 });
  });

  it('records a success with nothing else to write as the same row an empty writeSourceWindow writes', async () => {
    const failure = new Date('2025-03-01T11:00:00Z');
    const success = new Date('2025-03-01T12:00:00Z');
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'HTTP 503', now: failure });
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [], status: { status: 'ok' }, now: success });
    const written = await store().listStatus();
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'HTTP 503', now: failure });
    await store().recordSourceSuccess({ source: SOURCE, sourceSystem: SYSTEM, now: success });
    expect(await store().listStatus()).toEqual(written);
    expect(written).toEqual([
      { source: SOURCE, sourceSystem: SYSTEM, status: 'ok', lastRunAt: success, lastSuccessAt: success, lastError: null, rowsWritten: 0, updatedAt: success },
    ]);
    await expect(store().recordSourceSuccess({ source: HEARTBEAT_SOURCE, sourceSystem: '' })).rejects.toThrow(/success\.source/);
    await expect(store().recordSourceSuccess({ source: SOURCE, sourceSystem: SYSTEM, rowsWritten: -1 })).rejects.toThrow(StoreArgumentError);
  });

  it('records a paused source that never ran, with no success', async () => {
    const now = new Date('2025-03-01T10:00:00Z');
    await store().recordSourceStatus({ source: 'copilot', sourceSystem: 'copilot', status: 'paused', now });
    expect(await store().listStatus()).toEqual([
      { source: 'copilot', sourceSystem: 'copilot', status: 'paused', lastRunAt: now, lastSuccessAt: null, lastError: null, rowsWritten: 0, updatedAt: now },
    ]);
  });

  it('cuts a very long error message', async () => {
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'x'.repeat(100_000) });
    const [status] = await store().listStatus();
    expect(status?.lastError).toHaveLength(2000);
  });

  it('refuses an unknown status and the reserved heartbeat name', async () => {
    await expect(
      store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'broken' as 'error' }),
    ).rejects.toThrow(StoreArgumentError);
    await expect(store().recordSourceStatus({ source: HEARTBEAT_SOURCE, sourceSystem: '', status: 'ok' })).rejects.toThrow(
      /update\.source/,
    );
  });

  it('commits the rows of a run that wrote nothing else, and the heartbeat, without waiting for the WAL flush', async () => {
    const tables = storeTables(store().schema);
    // Inside a transaction the statements' local setting is visible until it ends; a statement run alone is its own transaction.
    const seen = await store().client.transaction(async (tx) => {
      const before = await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      await recordSourceSuccess(tx, tables, { source: SOURCE, sourceSystem: SYSTEM, now: new Date('2025-03-01T12:00:00Z') });
      const afterStatus = await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      await tx.exec('RESET synchronous_commit');
      await heartbeat(tx, tables, new Date('2025-03-01T12:00:01Z'));
      const afterHeartbeat = await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      return [before[0]?.synchronous_commit, afterStatus[0]?.synchronous_commit, afterHeartbeat[0]?.synchronous_commit];
    });
    expect(seen).toEqual(['on', 'off', 'off']);
    // Local to the transaction: the session's setting is untouched afterwards, so a later write commits as before.
    expect(await store().client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
    expect((await store().listStatus()).map((row) => [row.source, row.status, row.lastSuccessAt?.toISOString()])).toEqual([
      [HEARTBEAT_SOURCE, 'ok', '2025-03-01T12:00:01.000Z'],
      [SOURCE, 'ok', '2025-03-01T12:00:00.000Z'],
    ]);
  });

  it('upserts the heartbeat row', async () => {
    await store().heartbeat(new Date('2025-03-01T10:00:00Z'));
    await store().heartbeat(new Date('2025-03-01T10:05:00Z'));
    const statuses = await store().listStatus();
    expect(statuses).toEqual([
      {
        source: HEARTBEAT_SOURCE,
        sourceSystem: '',
        status: 'ok',
        lastRunAt: new Date('2025-03-01T10:05:00Z'),
        lastSuccessAt: new Date('2025-03-01T10:05:00Z'),
        lastError: null,
        rowsWritten: 0,
        updatedAt: new Date('2025-03-01T10:05:00Z'),
      },
    ]);
  });

  it('reports freshness from watchdog_status', async () => {
    const now = new Date('2025-03-01T10:00:00Z');
    await store().recordSourceStatus({ source: SOURCE, sourceSystem: SYSTEM, status: 'error', error: 'timeout', now });
    await store().heartbeat(now);
    expect(await store().freshness()).toEqual([
      { source: HEARTBEAT_SOURCE, sourceSystem: '', status: 'ok', updatedAt: now, lastSuccessAt: now, lastError: null },
      { source: SOURCE, sourceSystem: SYSTEM, status: 'error', updatedAt: now, lastSuccessAt: null, lastError: 'timeout' },
    ]);
  });

  it('judges the latest usage update on updated_at, not created_at (invariant 8)', async () => {
    expect(await store().latestUsageUpdate(SYSTEM)).toBeNull();
    const rows = [usageRow({ source_system: SYSTEM, input_tokens: 1 })];
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    const first = await store().latestUsageUpdate(SYSTEM);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A replay of the same bucket creates no row, yet the source is fresh.
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows });
    const second = await store().latestUsageUpdate(SYSTEM);
    const [row] = await store().client.query<{ created_at: Date; updated_at: Date }>(
      `SELECT created_at, updated_at FROM "${store().schema}".token_usage`,
    );
    expect(second?.getTime()).toBeGreaterThan(first?.getTime() ?? Number.POSITIVE_INFINITY);
    expect(second).toEqual(row?.updated_at);
    expect(second).not.toEqual(row?.created_at);
  });
});
