import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from './open-store';
import { StoreBusyError } from './store-busy-error';
import { StoreConnectionError } from './store-connection-error';
import { findPostgresBin, type ScratchPostgres, startScratchPostgres } from './test-support/scratch-postgres';
import { hourlyRows } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';

const BIN = findPostgresBin();
if (BIN === undefined) console.warn('no PostgreSQL binaries under /usr/lib/postgresql (or UTT_PG_BIN): the database fault tests are skipped');

const SYSTEM = 'test_system';
const WINDOW_START = new Date('2025-03-01T00:00:00Z');
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Faults a real server can have in the middle of a write: a terminated
 * backend, a stopped server, a frozen backend, a lock held by someone else.
 * Each on a server of the suite's own, since it is stopped and frozen.
 */
describe.skipIf(BIN === undefined)('PostgreSQL faults during a write', () => {
  let server: ScratchPostgres;
  let store: UsageStore;
  let admin: UsageStore;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    server = await startScratchPostgres(BIN as string);
    store = await openStore({ url: server.url, timeouts: { statementMs: 1_500, lockMs: 1_000 } });
    admin = await openStore({ url: server.url, migrate: false });
    process.on('uncaughtException', onUncaught);
  }, 60_000);

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await store?.close().catch(() => {});
    await admin?.close().catch(() => {});
    await server?.destroy();
  }, 60_000);

  const count = async () => Number((await admin.client.query<{ n: number }>('SELECT count(*)::int AS n FROM utt.token_usage'))[0]?.n);

  it('a backend terminated between two statements of a write rolls it back and names the server; the process lives on', async () => {
    const attempt = store.client.transaction(async (tx) => {
      await tx.query(`INSERT INTO utt.rollup_watermark (source, granularity, watermark, updated_at) VALUES ('fault-a', 'hour', now(), now())`);
      const [{ pid } = { pid: 0 }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.client.query('SELECT pg_terminate_backend($1)', [pid]);
      // The connection dies while no statement of ours is running: pg emits
      // 'error' on the checked-out client, which ended Node when nobody listened.
      await pause(300);
      await tx.query('SELECT 1');
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(StoreConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`lost the connection to PostgreSQL at postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(uncaught).toEqual([]);
    expect(await admin.client.query(`SELECT 1 FROM utt.rollup_watermark WHERE source = 'fault-a'`)).toEqual([]);
    // The pool dropped the dead connection: the store keeps working.
    await store.writeSourceWindow({ source: 'after-terminate', sourceSystem: SYSTEM, rows: hourlyRows(3, WINDOW_START) });
    expect(await count()).toBe(3);
  });

  it('a server stopped in the middle of a write rolls it back, reports the server, and the same store writes once it is back', async () => {
    const before = await count();
    const attempt = store.client.transaction(async (tx) => {
      await tx.query(`INSERT INTO utt.rollup_watermark (source, granularity, watermark, updated_at) VALUES ('fault-b', 'hour', now(), now())`);
      await tx.query('SELECT pg_sleep(1)');
    }).catch((caught: unknown) => caught);
    await pause(200);
    await server.stop('fast');
    const error = await attempt;
    expect(StoreConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);

    const whileDown = await store.writeSourceWindow({ source: 'down', sourceSystem: SYSTEM, rows: hourlyRows(1, WINDOW_START) }).catch((caught: unknown) => caught);
    expect(StoreConnectionError.isInstance(whileDown)).toBe(true);
    expect((whileDown as Error).message).toContain('(database.url)');

    await server.start();
    expect(await admin.client.query(`SELECT 1 FROM utt.rollup_watermark WHERE source = 'fault-b'`)).toEqual([]);
    await store.writeSourceWindow({ source: 'after-restart', sourceSystem: SYSTEM, rows: hourlyRows(5, new Date('2025-04-01T00:00:00Z')) });
    expect(await count()).toBe(before + 5);
    expect(uncaught).toEqual([]);
  }, 60_000);

  it('a frozen backend (SIGSTOP) ends in the configured timeout instead of hanging, and the write rolls back', async () => {
    let pid = 0;
    const started = Date.now();
    const attempt = store.client.transaction(async (tx) => {
      await tx.query(`INSERT INTO utt.rollup_watermark (source, granularity, watermark, updated_at) VALUES ('fault-c', 'hour', now(), now())`);
      [{ pid } = { pid: 0 }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      process.kill(pid, 'SIGSTOP');
      await tx.query('SELECT 1');
    });
    try {
      const error = await attempt.catch((caught: unknown) => caught);
      const elapsed = Date.now() - started;
      expect(StoreConnectionError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('did not answer within database.statementTimeout');
      // statementTimeout 1.5 s + 5 s grace: not before it, and not much after.
      expect(elapsed).toBeGreaterThanOrEqual(6_000);
      expect(elapsed).toBeLessThan(15_000);
    } finally {
      if (pid) process.kill(pid, 'SIGCONT');
    }
    await pause(300);
    expect(await admin.client.query(`SELECT 1 FROM utt.rollup_watermark WHERE source = 'fault-c'`)).toEqual([]);
    expect(uncaught).toEqual([]);
  }, 30_000);

  it('a statement past database.statementTimeout is cancelled by the server with a message naming the setting', async () => {
    const error = await store.client.query('SELECT pg_sleep(5)').catch((caught: unknown) => caught);
    expect(StoreBusyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('database.statementTimeout (1.5 s)');
  });

  it('a lock held by another session past database.lockTimeout ends the write with a message naming the setting', async () => {
    await store.writeSourceWindow({ source: 'locked', sourceSystem: SYSTEM, rows: hourlyRows(1, new Date('2025-05-01T00:00:00Z')) });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const holder = admin.client.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM utt.token_usage WHERE bucket_start = '2025-05-01T00:00:00Z' FOR UPDATE`);
      await held;
    });
    await pause(200);
    const error = await store
      .writeSourceWindow({ source: 'locked', sourceSystem: SYSTEM, rows: hourlyRows(1, new Date('2025-05-01T00:00:00Z'), { input_tokens: 9 }) })
      .catch((caught: unknown) => caught);
    release();
    await holder;
    expect(StoreBusyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('database.lockTimeout (1 s)');
  });
});
