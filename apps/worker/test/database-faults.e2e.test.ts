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
      env: { DATABASE_URL: server.url },
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
      env: { DATABASE_URL: server.url },
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
});
