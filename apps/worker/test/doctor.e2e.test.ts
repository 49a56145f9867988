import { spawnSync } from 'node:child_process';
import { cp, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MIGRATIONS } from '@utt/postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from './helpers/fake-provider';
import { backends, makeWorkdir, REPO_ROOT, removeWorkdir, runCli, writeConfig } from './helpers/cli';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});

describe.each(backends())('utt doctor on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;
  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  it('prints a clean report on the example database (exit 0)', async () => {
    await cp(path.join(REPO_ROOT, 'examples'), path.join(workdir, 'examples'), { recursive: true });
    const example = (await import('node:fs/promises')).readFile(path.join(REPO_ROOT, 'examples/utt.config.yaml'), 'utf8');
    const body = (await example)
      .replace(/^database:\n(?: {2}.*\n)+/m, '')
      .replace('files: [data/sample-usage.csv]', `files: [${JSON.stringify(path.join(REPO_ROOT, 'examples/data/sample-usage.csv'))}]`);
    const config = await writeConfig(workdir, database.databaseYaml, body);
    // What `pnpm start` writes first: the transcripts and the provider export the example config reads.
    const files = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples/write-example-files.mjs'), path.join(workdir, '.utt/example-files')], { encoding: 'utf8' });
    expect(files.status, files.stderr).toBe(0);
    const run = await runCli(['run', '--config', config], { cwd: workdir, env: database.env });
    expect(run.code, run.stderr).toBe(0);
    const doctor = await runCli(['doctor', '--config', config], { cwd: workdir, env: database.env });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`all ${MIGRATIONS.length} migrations applied`);
    expect(doctor.stdout).toMatch(/ok\s+sources\s+4 sources fresh and succeeding/);
    expect(doctor.stdout).toContain('no problems found');
    if (backend.name === 'postgres') expect(doctor.stdout).toMatch(/ok\s+timeouts\s+statement_timeout 5min, lock_timeout 1min/);
    else expect(doctor.stdout).toMatch(/ok\s+embedded lock\s+.* is free/);
  });

  it('names each problem of a broken database with its fix (exit 2), and pending migrations first', async () => {
    const source = (name: string, mode: string) =>
      `  - name: ${name}\n    adapter: utt-adapter-fixture\n    config:\n      baseUrl: ${fake.baseUrl}/${mode}\n      token: t\n`;
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `pricing:\n  maxAge: 30d\nsources:\n${source('good', 'ok')}${source('bad', 'unauthorized')}${source('later', 'ok')}`,
    );
    // Collected long ago: fresh then, stale and far behind now.
    for (const only of ['good', 'bad']) {
      await runCli(['run', '--source', only, '--config', config, '--now', '2026-10-05T10:20:00Z'], { cwd: workdir, env: database.env });
    }
    await mkdir(path.join(workdir, '.utt'), { recursive: true });
    const prices = path.join(workdir, '.utt/prices.json');
    await writeFile(prices, '{}');
    const old = new Date('2026-08-01T00:00:00Z');
    await utimes(prices, old, old);

    const doctor = await runCli(['doctor', '--config', config, '--now', '2026-12-06T04:00:00Z'], { cwd: workdir, env: database.env });
    expect(doctor.code, doctor.stderr).toBe(2);
    const out = doctor.stdout;
    expect(out).toMatch(/warn\s+prices\s+\.utt\/prices\.json is 127 days old \(pricing\.maxAge 30 days\)\n\s+fix: utt prices update/);
    expect(out).toMatch(/warn\s+unpriced\s+1 model with tokens but no cost: fakeai\/alpha|warn\s+unpriced\s+2 models with tokens but no cost/);
    expect(out).toMatch(/FAIL\s+source bad\s+failing since .*lacks the usage:read permission\n\s+fix: utt check --source bad/);
    expect(out).toMatch(/warn\s+source good\s+stale: last success 2026-10-05/);
    expect(out).toMatch(/warn\s+source good\s+watermark 2026-10-05T10:00:00\.000Z is further behind than maxBackfill \(24 h\)[^\n]*\n\s+fix: utt backfill --source good --since 2026-10-05T10:00:00\.000Z/);
    expect(out).toMatch(/warn\s+source later\s+has never run\n\s+fix: utt run --source later/);
    expect(out).toMatch(/\d+ problems to fix/);

    const store = await database.open();
    try {
      await store.client.query(`DELETE FROM "${store.schema}".utt_migrations WHERE name = '0004_price_provenance'`);
    } finally {
      await store.close();
    }
    const pending = await runCli(['doctor', '--config', config], { cwd: workdir, env: database.env });
    expect(pending.code).toBe(2);
    expect(pending.stdout).toMatch(
      new RegExp(String.raw`FAIL\s+schema\s+schema \S+: 1 of ${MIGRATIONS.length} migrations pending \(0004_price_provenance\)\n\s+fix: utt migrate`),
    );
  });
});
