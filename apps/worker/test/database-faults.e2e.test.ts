import { openStore } from '@utt/postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// The fault tests need a server of their own to stop and restart; the helper lives with the store's tests.
import { findPostgresBin, type ScratchPostgres, startScratchPostgres } from '../../../packages/postgres/src/test-support/scratch-postgres';
import { makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const BIN = findPostgresBin();
if (BIN === undefined) console.warn('no PostgreSQL binaries under /usr/lib/postgresql (or UTT_PG_BIN): the worker database fault tests are skipped');

const SUBSCRIPTION_SOURCE = `sources:
  - name: subs
    adapter: "@utt/adapter-subscription"
    config:
      plans:
        - { name: team, plan: chatgpt-plus, seats: 2, start: "2026-01-01" }
`;

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe.skipIf(BIN === undefined)('utt daemon through a PostgreSQL outage', () => {
  let server: ScratchPostgres;
  let workdir: string;

  beforeAll(async () => {
    server = await startScratchPostgres(BIN as string);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  }, 60_000);
  beforeEach(async () => {
    workdir = await makeWorkdir();
  });
  afterEach(async () => {
    await removeWorkdir(workdir);
  });

  it('keeps running while the server is down, says it is the database, and writes its status once it is back', async () => {
    const config = await writeConfig(workdir, 'database:\n  schema: outage\n  connectTimeout: 2s\n', SUBSCRIPTION_SOURCE);
    let restartedAt = 0;
    let cyclesAfterRestart = 0;
    const result = await runCli(['daemon', '--config', config, '--interval', '300ms'], {
      cwd: workdir,
      // Cycles a fraction of a second apart, so the outage spans several of them.
      env: { DATABASE_URL: server.url, UTT_DAEMON_MIN_INTERVAL: '100ms' },
      onSpawn: (child) => {
        let cycles = 0;
        let outage: Promise<void> | undefined;
        child.stdout?.on('data', (chunk: Buffer) => {
          const seen = (chunk.toString().match(/cycle: /g) ?? []).length;
          cycles += seen;
          if (restartedAt > 0) cyclesAfterRestart += seen;
          if (cycles >= 1 && outage === undefined) {
            // Five seconds without a database, as in the report that the daemon exited on.
            outage = (async () => {
              await server.stop('fast');
              await pause(5_000);
              await server.start();
              restartedAt = Date.now();
            })();
          }
          if (cyclesAfterRestart >= 1) child.kill('SIGTERM');
        });
        // A backstop: the test fails on the assertions below rather than hanging.
        setTimeout(() => child.kill('SIGTERM'), 40_000).unref();
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(cyclesAfterRestart).toBeGreaterThanOrEqual(1);
    expect(result.stderr).toContain(`PostgreSQL at postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(result.stderr).toContain('the daemon keeps running and tries again in');
    expect(result.stderr).toContain('the database is reachable again');

    const store = await openStore({ url: server.url, schema: 'outage', migrate: false });
    try {
      const rows = await store.client.query<{ source: string; status: string; updated_at: Date }>(
        `SELECT source, status, updated_at FROM outage.watchdog_status ORDER BY source`,
      );
      expect(rows.map(({ source, status }) => ({ source, status }))).toEqual([
        { source: '__heartbeat__', status: 'ok' },
        { source: 'subs', status: 'ok' },
      ]);
      for (const row of rows) expect(row.updated_at.getTime()).toBeGreaterThanOrEqual(restartedAt - 1_000);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('starts while the server is down and begins collecting when it comes up', async () => {
    const config = await writeConfig(workdir, 'database:\n  schema: late\n  connectTimeout: 2s\n', SUBSCRIPTION_SOURCE);
    await server.stop('fast');
    const startLater = pause(3_000).then(() => server.start());
    const result = await runCli(['daemon', '--config', config, '--interval', '300ms'], {
      cwd: workdir,
      // Cycles a fraction of a second apart, so the outage spans several of them.
      env: { DATABASE_URL: server.url, UTT_DAEMON_MIN_INTERVAL: '100ms' },
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (/cycle: /.test(chunk.toString())) child.kill('SIGTERM');
        });
        setTimeout(() => child.kill('SIGTERM'), 40_000).unref();
      },
    });
    await startLater;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/subs\s+subscription\s+ok/);
    expect(result.stderr).toMatch(/could not connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres \(database\.url\)/);
  }, 60_000);

  it('utt run against a stopped server exits 1 with a message naming the database', async () => {
    const config = await writeConfig(workdir, 'database:\n  schema: stopped\n  connectTimeout: 2s\n', SUBSCRIPTION_SOURCE);
    await server.stop('fast');
    try {
      const result = await runCli(['run', '--config', config], { cwd: workdir, env: { DATABASE_URL: server.url } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`could not connect to PostgreSQL at postgres://postgres@127.0.0.1:${server.port}/postgres (database.url)`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await server.start();
    }
  }, 60_000);

  /**
   * Holds the advisory lock a write of `source` takes first, so that the
   * worker's write waits inside its transaction: a write "in flight" for as
   * long as the test needs.
   */
  async function holdSourceLock(schema: string, source: string) {
    const admin = await openStore({ url: server.url, migrate: false });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = admin.client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [schema, `source:${source}`]);
      locked();
      await released;
    });
    await isLocked;
    const waitForBlockedWriter = async () => {
      for (let attempt = 0; attempt < 300; attempt++) {
        const rows = await admin.client.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND application_name = 'utt'`);
        if (rows.length > 0) return;
        await pause(100);
      }
      throw new Error('the worker never started its write');
    };
    return {
      waitForBlockedWriter,
      async release() {
        release();
        await holding;
        await admin.close();
      },
    };
  }

  async function countRows(schema: string): Promise<{ rows: number; statuses: string[] }> {
    const store = await openStore({ url: server.url, schema, migrate: false });
    try {
      const [row] = await store.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".token_usage`);
      const statuses = await store.client.query<{ source: string; status: string }>(`SELECT source, status FROM "${schema}".watchdog_status WHERE source <> '__heartbeat__'`);
      return { rows: Number(row?.n), statuses: statuses.map(({ source, status }) => `${source}:${status}`) };
    } finally {
      await store.close();
    }
  }

  it('SIGTERM to the daemon while a write is in flight: that write commits, then the daemon exits 0 (as documented)', async () => {
    const config = await writeConfig(workdir, 'database:\n  schema: sigterm_daemon\n', SUBSCRIPTION_SOURCE);
    const lock = await holdSourceLock('sigterm_daemon', 'subs');
    let child: ReturnType<typeof import('node:child_process').spawn> | undefined;
    const running = runCli(['daemon', '--config', config, '--interval', '1h', '--log-level', 'info'], {
      cwd: workdir,
      // Cycles a fraction of a second apart, so the outage spans several of them.
      env: { DATABASE_URL: server.url, UTT_DAEMON_MIN_INTERVAL: '100ms' },
      onSpawn: (spawned) => (child = spawned),
    });
    await lock.waitForBlockedWriter();
    child?.kill('SIGTERM');
    await pause(500);
    await lock.release();
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('received SIGTERM');
    const stored = await countRows('sigterm_daemon');
    expect(stored.rows).toBeGreaterThan(0);
    expect(stored.statuses).toEqual(['subs:ok']);
  }, 60_000);

  it('SIGTERM to utt run while a write is in flight: the process ends and the database rolls the write back (as documented)', async () => {
    const config = await writeConfig(workdir, 'database:\n  schema: sigterm_run\n', SUBSCRIPTION_SOURCE);
    const lock = await holdSourceLock('sigterm_run', 'subs');
    let child: ReturnType<typeof import('node:child_process').spawn> | undefined;
    const running = runCli(['run', '--config', config], { cwd: workdir, env: { DATABASE_URL: server.url }, onSpawn: (spawned) => (child = spawned) });
    await lock.waitForBlockedWriter();
    child?.kill('SIGTERM');
    const result = await running;
    await lock.release();
    expect(result.code).toBeNull();
    const stored = await countRows('sigterm_run');
    expect(stored).toEqual({ rows: 0, statuses: [] });
  }, 60_000);
});

