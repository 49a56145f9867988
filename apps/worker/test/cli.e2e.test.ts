import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '@utt/postgres';
import { type FakeProvider, servedBucket, startFakeProvider } from './helpers/fake-provider';
import { backends, makeWorkdir, REPO_ROOT, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const CANARY = 'sk-CANARY-never-printed-4242';
const NOW = '2026-10-05T10:20:00Z';

/** Every token_usage row, minus the timestamps a rewrite legitimately moves. */
const ROWS_SQL = `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
  input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
  cost_usd, cost_source, measurement_basis, created_at
  FROM utt_schema.token_usage ORDER BY source_system, source_instance, bucket_start, provider, model, account, api_key, user_id, labels::text`;

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});

describe.each(backends())('utt CLI on $name', (backend) => {
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

  async function selectRows(sql = ROWS_SQL, params: unknown[] = []) {
    const store = await database.open();
    try {
      return await store.client.query<Record<string, unknown>>(sql.replaceAll('utt_schema', `"${store.schema}"`), params);
    } finally {
      await store.close();
    }
  }

  function fixtureSource(name: string, mode: string, extra = '') {
    return `  - name: ${name}\n    adapter: utt-adapter-fixture\n${extra}    config:\n      baseUrl: ${fake.baseUrl}/${mode}\n      token: \${FIXTURE_TOKEN}\n`;
  }

  it('runs the example config: subscriptions and the sample CSV, then a report', async () => {
    const example = await readFile(path.join(REPO_ROOT, 'examples/utt.config.yaml'), 'utf8');
    // The example's generated files (transcripts, a provider export) are dated
    // by the real clock, this cycle by --now: their sources are left out here
    // (serve.e2e runs them).
    const body = example
      .replace(/^database:[\s\S]*?\n\n/m, '')
      .replace(/^ {2}# Files examples\/write-example-files\.mjs[\s\S]*?(?=^ {2}# More sources)/m, '')
      .replace('files: [data/sample-usage.csv]', `files: [${JSON.stringify(path.join(REPO_ROOT, 'examples/data/sample-usage.csv'))}]`);
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const first = await runCli(['run', '--config', config, '--report', '--now', NOW], { cwd: workdir, env: database.env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/subscriptions\s+subscription\s+ok/);
    expect(first.stdout).toMatch(/sample-csv\s+manual\s+ok/);
    // The duration is real time even when --now moves the collection clock.
    expect(first.stdout).toMatch(/cycle: 2 ok, 0 failed, 0 paused in \d{1,5} ms/);
    // The local llama has no price: shown as unpriced tokens, not as $0.
    expect(first.stdout).toMatch(/tokens have no price/);

    const rowsAfterFirst = await selectRows();
    const second = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: database.env });
    expect(second.code).toBe(0);
    // Invariant 1: the same cycle twice leaves the same rows and the same numbers.
    expect(await selectRows()).toEqual(rowsAfterFirst);

    // Copilot Business, 12 seats at $19, in October 2026.
    const copilot = await selectRows(
      `SELECT cost_usd, cost_source, measurement_basis, input_tokens FROM utt_schema.token_usage
       WHERE source_system = 'subscription' AND labels->>'subscription' = 'copilot' AND bucket_start = '2026-10-01T00:00:00Z'`,
    );
    expect(copilot).toHaveLength(1);
    expect(Number(copilot[0]?.cost_usd)).toBe(228);
    expect(copilot[0]).toMatchObject({ cost_source: 'fixed', measurement_basis: 'derived_estimate', input_tokens: null });
  });

  it('backfills a window exactly, with paging, converted to non-overlapping tokens; a second run changes nothing', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${fixtureSource('fake', 'ok')}`);
    const env = { ...database.env, FIXTURE_TOKEN: CANARY };
    const args = ['backfill', '--config', config, '--source', 'fake', '--since', '2026-10-01T00:00:00Z', '--until', '2026-10-01T06:00:00Z', '--now', NOW];
    const first = await runCli(args, { cwd: workdir, env });
    expect(first.code, first.stderr).toBe(0);
    const rows = await selectRows(
      `SELECT bucket_start, model, input_tokens, output_tokens, cached_read_tokens, requests FROM utt_schema.token_usage ORDER BY bucket_start, model`,
    );
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      const bucket = row.bucket_start as Date;
      const served = servedBucket(bucket, row.model as 'alpha' | 'beta');
      expect(row).toEqual({
        bucket_start: bucket,
        model: row.model,
        input_tokens: served.input_including_cache - (served.cache_read ?? 0),
        output_tokens: served.output,
        cached_read_tokens: served.cache_read,
        requests: served.requests,
      });
    }
    // Hand-written spot checks: 01:00 alpha served 1001 input including 300 cache reads.
    expect(rows.find((row) => (row.bucket_start as Date).toISOString() === '2026-10-01T01:00:00.000Z' && row.model === 'alpha')).toMatchObject({
      input_tokens: 701,
      cached_read_tokens: 300,
    });
    // NULL (beta reports no cache) and 0 (alpha at even hours) stay apart.
    expect(rows.filter((row) => row.model === 'beta').every((row) => row.cached_read_tokens === null)).toBe(true);
    expect(rows.filter((row) => row.model === 'alpha' && row.cached_read_tokens === 0)).toHaveLength(3);

    const before = await selectRows();
    expect((await runCli(args, { cwd: workdir, env })).code).toBe(0);
    expect(await selectRows()).toEqual(before);

    // Billed amounts and the source's state were written with the rows: two runs, two cycles counted.
    expect(await selectRows(`SELECT bucket_start, line_item, amount_usd FROM utt_schema.provider_cost`)).toEqual([
      { bucket_start: new Date('2026-10-01T00:00:00Z'), line_item: 'tokens', amount_usd: '1.23' },
    ]);
    expect(await selectRows(`SELECT key, value FROM utt_schema.source_state WHERE source = 'fake'`)).toEqual([{ key: 'cycles', value: 2 }]);

    const [watermark] = await selectRows(`SELECT watermark FROM utt_schema.rollup_watermark WHERE source = 'fake'`);
    expect((watermark?.watermark as Date).toISOString()).toBe('2026-10-01T06:00:00.000Z');
    // The key went only into the Authorization header, and no output carries it.
    expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${CANARY}`);
    expect(first.stdout + first.stderr).not.toContain(CANARY);
  });

  it('exits 2 when one source fails, still writes the others, and keeps the secret out of output and database', async () => {
    const body = `sources:\n${fixtureSource('good', 'ok')}${fixtureSource('denied', 'unauthorized')}${fixtureSource('broken', 'invalid')}`;
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: { ...database.env, FIXTURE_TOKEN: CANARY } });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/denied\s+fixture_api\s+error/);
    expect(result.stdout).toContain('answered 401: this key lacks the usage:read permission');
    // A record that breaks the schema fails its source, naming the field; nothing of it is written.
    expect(result.stdout).toMatch(/broken: invalid usage record .*input_tokens: must not be negative/);
    expect(result.stdout + result.stderr).not.toContain(CANARY);

    const counts = await selectRows(`SELECT source_instance, count(*)::int AS n FROM utt_schema.token_usage GROUP BY source_instance ORDER BY 1`);
    expect(counts).toEqual([{ source_instance: 'good', n: 50 }]);
    const statuses = await selectRows(`SELECT source, status, last_error FROM utt_schema.watchdog_status ORDER BY source`);
    expect(statuses.map((row) => [row.source, row.status])).toEqual([
      ['__heartbeat__', 'ok'],
      ['broken', 'error'],
      ['denied', 'error'],
      ['good', 'ok'],
    ]);
    expect(JSON.stringify(statuses)).not.toContain(CANARY);
    // Neither failed source kept its state change or advanced its watermark.
    expect(await selectRows(`SELECT source, value FROM utt_schema.source_state ORDER BY source`)).toEqual([{ source: 'good', value: 1 }]);
    const watermarks = await selectRows(`SELECT source FROM utt_schema.rollup_watermark ORDER BY source`);
    expect(watermarks).toEqual([{ source: 'good' }]);
  });

  it('gives up on a provider that never answers within the configured deadline', async () => {
    const body = `worker:\n  httpDeadline: 300ms\n  httpRetryBudget: 1s\nsources:\n${fixtureSource('slow', 'hang')}${fixtureSource('good', 'ok')}`;
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const startedAt = Date.now();
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: { ...database.env, FIXTURE_TOKEN: 'x' } });
    expect(result.code).toBe(2);
    // Each attempt has the 300 ms deadline; the last gets only what is left of the 1 s retry budget.
    expect(result.stdout).toMatch(/did not complete within the (300 ms deadline|1000 ms retry budget)/);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
  });

  it('retries a 429 after its Retry-After and succeeds', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${fixtureSource('flaky', 'flaky')}`);
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: { ...database.env, FIXTURE_TOKEN: 'x' } });
    expect(result.code, result.stdout).toBe(0);
  });

  it('refuses an invalid config with exit 1, naming the path, before writing anything', async () => {
    const body = `sources:\n  - name: fake\n    adapter: utt-adapter-fixture\n    config:\n      token: abc\n  - name: subs\n    adapter: "@utt/adapter-subscription"\n    config:\n      plans:\n        - { name: x, seats: 0, start: "2026-01-01", provider: a, monthlyUsd: 5 }\n`;
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const result = await runCli(['run', '--config', config], { cwd: workdir, env: database.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sources[0].config.baseUrl: required');
    expect(result.stderr).toContain('sources[1].config.plans[0].seats');

    const missingVariable = await writeConfig(workdir, database.databaseYaml, `sources:\n${fixtureSource('fake', 'ok')}`, 'missing.yaml');
    const missing = await runCli(['run', '--config', missingVariable], { cwd: workdir, env: database.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('sources[0].config.token: environment variable FIXTURE_TOKEN is not set');

    const unknownAdapter = await writeConfig(workdir, database.databaseYaml, `sources:\n  - { name: nope, adapter: utt-adapter-does-not-exist }\n`, 'unknown.yaml');
    const unknown = await runCli(['run', '--config', unknownAdapter], { cwd: workdir, env: database.env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('sources[0].adapter: cannot load adapter utt-adapter-does-not-exist: the package is not installed');

    if (backend.name === 'postgres') {
      // `utt run` connects (and reads which migrations the schema has) while the adapters load, but
      // migrates only once the config has proved good: after three refused configs the schema does not exist.
      const schema = /schema: (\S+)/.exec(database.databaseYaml)?.[1];
      const admin = await openStore({ url: database.env.DATABASE_URL, schema, migrate: false });
      try {
        expect(await admin.client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
      } finally {
        await admin.close();
      }
    }
  });

  it('watchdog: fresh after a run, paused is never stale, fails once the heartbeat is older than its threshold', async () => {
    const body = `sources:\n${fixtureSource('good', 'ok')}${fixtureSource('resting', 'ok', '    paused: true\n')}`;
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const env = { ...database.env, FIXTURE_TOKEN: 'x' };
    expect((await runCli(['run', '--config', config], { cwd: workdir, env })).code).toBe(0);

    const fresh = await runCli(['watchdog', '--config', config], { cwd: workdir, env });
    expect(fresh.code, fresh.stdout).toBe(0);
    expect(fresh.stdout).toMatch(/resting\s+paused/);

    // Two hours later nothing has run: with the default 1h threshold, everything active is stale.
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const stale = await runCli(['watchdog', '--config', config, '--now', later], { cwd: workdir, env });
    expect(stale.code).toBe(2);
    expect(stale.stdout).toContain('stale: __heartbeat__, good');
    expect(stale.stdout).toMatch(/resting\s+paused/);
  });

  it('imports a per-request CSV into its cells, NULL and 0 apart; a bad file is refused with its line and nothing written', async () => {
    const good = path.join(workdir, 'requests.csv');
    await writeFile(
      good,
      [
        'bucket_start,provider,model,input_tokens,output_tokens,cached_read_tokens,requests',
        '2026-10-01T09:15:00Z,anthropic,claude-sonnet-4-5,100,10,,1',
        '2026-10-01T17:45:00Z,anthropic,claude-sonnet-4-5,250,20,,1',
        '2026-10-01T11:00:00Z,openai,gpt-5,1000,100,0,1',
        '2026-10-02T00:00:00Z,openai,gpt-5,1,1,0,1',
      ].join('\n'),
    );
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    const imported = await runCli(['import', good, '--config', config], { cwd: workdir, env: database.env });
    expect(imported.code, imported.stderr).toBe(0);
    const rows = await selectRows(
      `SELECT bucket_start, model, input_tokens, output_tokens, cached_read_tokens, requests, source_instance FROM utt_schema.token_usage ORDER BY bucket_start, model`,
    );
    expect(rows).toEqual([
      { bucket_start: new Date('2026-10-01T00:00:00Z'), model: 'claude-sonnet-4-5', input_tokens: 350, output_tokens: 30, cached_read_tokens: null, requests: 2, source_instance: 'requests.csv' },
      { bucket_start: new Date('2026-10-01T00:00:00Z'), model: 'gpt-5', input_tokens: 1000, output_tokens: 100, cached_read_tokens: 0, requests: 1, source_instance: 'requests.csv' },
      { bucket_start: new Date('2026-10-02T00:00:00Z'), model: 'gpt-5', input_tokens: 1, output_tokens: 1, cached_read_tokens: 0, requests: 1, source_instance: 'requests.csv' },
    ]);
    const again = await runCli(['import', good, '--config', config], { cwd: workdir, env: database.env });
    expect(again.code).toBe(0);
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 3 }]);

    const bad = path.join(workdir, 'bad.csv');
    await writeFile(bad, ['bucket_start,provider,model,input_tokens', '2026-10-03T01:00:00Z,openai,gpt-5,5', '2026-10-03T02:00:00Z,openai,gpt-5,-7'].join('\n'));
    const refused = await runCli(['import', bad, '--config', config], { cwd: workdir, env: database.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad\.csv:3: input_tokens/);
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 3 }]);

    const skipped = await runCli(['import', bad, '--skip-invalid', '--config', config], { cwd: workdir, env: database.env });
    expect(skipped.code).toBe(2);
    expect(skipped.stdout).toMatch(/bad\.csv:3: input_tokens/);
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 4 }]);

    // Each row is valid, but the sum of one cell is not: reasoning above output once summed.
    const sums = path.join(workdir, 'sums.csv');
    await writeFile(
      sums,
      [
        'bucket_start,granularity,provider,model,output_tokens,reasoning_tokens',
        '2026-10-04T01:00:00Z,hour,openai,gpt-5,5,',
        '2026-10-04T02:10:00Z,hour,openai,gpt-5,,8',
        '2026-10-04T02:20:00Z,hour,openai,gpt-5,3,',
      ].join('\n'),
    );
    const refusedSum = await runCli(['import', sums, '--config', config], { cwd: workdir, env: database.env });
    expect(refusedSum.code).toBe(1);
    expect(refusedSum.stderr).toMatch(/sums\.csv:3: reasoning_tokens: is part of output_tokens and cannot exceed it in the sum of the 2 rows/);
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 4 }]);
    const skippedSum = await runCli(['import', sums, '--skip-invalid', '--config', config], { cwd: workdir, env: database.env });
    expect(skippedSum.code).toBe(2);
    expect(skippedSum.stdout).toContain('3 rows read, 1 imported into 1 cells');
    expect(skippedSum.stdout).toMatch(/sums\.csv:3: reasoning_tokens/);
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 5 }]);
  });

  it('migrate names the migrations it applies, then says the schema is up to date', async () => {
    // PGlite's tests start from a migrated template: a schema of its own there.
    const databaseYaml = backend.name === 'pglite' ? database.databaseYaml.replace('schema: utt', 'schema: unmigrated') : database.databaseYaml;
    const config = await writeConfig(workdir, databaseYaml, 'sources: []\n');
    const first = await runCli(['migrate', '--config', config], { cwd: workdir, env: database.env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: 0001_init, 0002_provider_cost, .*, 0020_day_rows_on_their_date\n$/);
    const again = await runCli(['migrate', '--config', config], { cwd: workdir, env: database.env });
    expect(again.stdout).toBe('schema is up to date\n');
  });

  it('warns when a corrected file leaves cells of its earlier import behind, and deletes them with --replace', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    const file = path.join(workdir, 'october.csv');
    const header = 'bucket_start,provider,model,input_tokens';
    await writeFile(file, [header, '2026-10-01T09:00:00Z,openai,gpt-5-mni,100', '2026-10-01T10:00:00Z,openai,gpt-5,10'].join('\n'));
    expect((await runCli(['import', file, '--config', config], { cwd: workdir, env: database.env })).code).toBe(0);
    const totals = async () => selectRows(`SELECT model, sum(input_tokens)::int AS input_tokens FROM utt_schema.token_usage GROUP BY model ORDER BY model`);

    // The model name corrected: the misspelt cell is not in the file any more, yet still counts.
    await writeFile(file, [header, '2026-10-01T09:00:00Z,openai,gpt-5-mini,100', '2026-10-01T10:00:00Z,openai,gpt-5,10'].join('\n'));
    const corrected = await runCli(['import', file, '--config', config], { cwd: workdir, env: database.env });
    expect(corrected.code, corrected.stderr).toBe(0);
    expect(corrected.stdout).toContain(
      'warning: 1 cells an earlier import wrote into source_instance "october.csv" are not in this file and still count; if this file replaces that import, import it again with --replace to delete them',
    );
    expect(await totals()).toEqual([
      { model: 'gpt-5', input_tokens: 10 },
      { model: 'gpt-5-mini', input_tokens: 100 },
      { model: 'gpt-5-mni', input_tokens: 100 },
    ]);

    const replaced = await runCli(['import', file, '--replace', '--config', config], { cwd: workdir, env: database.env });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain('1 cells an earlier import wrote into source_instance "october.csv" are not in this file: deleted (--replace)');
    expect(await totals()).toEqual([
      { model: 'gpt-5', input_tokens: 10 },
      { model: 'gpt-5-mini', input_tokens: 100 },
    ]);
    const report = await runCli(['report', '--by', 'model', '--json', '--config', config], { cwd: workdir, env: database.env });
    expect((JSON.parse(report.stdout) as { key: string }[]).map((row) => row.key)).toEqual(['gpt-5', 'gpt-5-mini']);
  });

  it('import --skip-invalid names the first 20 bad rows in line order and counts the rest', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    const manyBad = path.join(workdir, 'many-bad.csv');
    const badLines = Array.from({ length: 25 }, (_, index) => `2026-10-05T${String(index % 24).padStart(2, '0')}:00:00Z,openai,gpt-5,-${index + 1}`);
    await writeFile(manyBad, ['bucket_start,provider,model,input_tokens', '2026-10-05T01:00:00Z,openai,gpt-5,5', ...badLines].join('\n'));
    const skippedMany = await runCli(['import', manyBad, '--skip-invalid', '--config', config], { cwd: workdir, env: database.env });
    expect(skippedMany.code).toBe(2);
    const listed = skippedMany.stdout.split('\n').filter((line) => line.startsWith('  '));
    expect(skippedMany.stdout).toContain('26 rows read, 1 imported into 1 cells\n25 invalid rows skipped:\n');
    expect(listed).toHaveLength(21);
    expect(listed[0]).toBe(`  ${manyBad}:3: input_tokens: must not be negative, got "-1"`);
    expect(listed[19]).toBe(`  ${manyBad}:22: input_tokens: must not be negative, got "-20"`);
    expect(listed[20]).toBe('  … and 5 more');
    expect(await selectRows(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 1 }]);
  });

  it('daemon runs cycles until SIGTERM, then exits 0', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${fixtureSource('good', 'ok')}`);
    let stop: (() => void) | undefined;
    const running = runCli(['daemon', '--config', config, '--interval', '200ms', '--log-level', 'info'], {
      cwd: workdir,
      // Cycles every 200 ms against a loopback fake: below the daemon's one-minute floor on purpose.
      env: { ...database.env, FIXTURE_TOKEN: 'x', UTT_DAEMON_MIN_INTERVAL: '100ms' },
      onSpawn: (child) => {
        let cycles = 0;
        child.stdout?.on('data', (chunk: Buffer) => {
          cycles += (chunk.toString().match(/cycle: /g) ?? []).length;
          if (cycles >= 2 && stop === undefined) {
            stop = () => child.kill('SIGTERM');
            stop();
          }
        });
      },
    });
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('received SIGTERM');
    const [heartbeat] = await selectRows(`SELECT status FROM utt_schema.watchdog_status WHERE source = '__heartbeat__'`);
    expect(heartbeat).toEqual({ status: 'ok' });
  });

  it('verify passes on healthy data', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${fixtureSource('good', 'ok')}`);
    const env = { ...database.env, FIXTURE_TOKEN: 'x' };
    expect((await runCli(['run', '--config', config], { cwd: workdir, env })).code).toBe(0);
    const verified = await runCli(['verify', '--config', config], { cwd: workdir, env });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/\d+ passed, 0 failed/);
  });
});
