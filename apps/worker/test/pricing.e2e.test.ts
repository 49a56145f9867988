import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { toScaledInteger } from '@utt/core';
import { loadBundledRegistry } from '@utt/pricing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from './helpers/fake-provider';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const NOW = '2026-10-05T10:20:00Z';

/** genai-prices data.json for the fixture's provider; set B doubles every rate of set A. */
const pricesData = (input: number, output: number, cacheRead: number) => [
  {
    id: 'fakeai',
    name: 'Fake AI',
    models: ['alpha', 'beta'].map((id) => ({ id, match: { equals: id }, prices: { input_mtok: input, output_mtok: output, cache_read_mtok: cacheRead } })),
  },
];

let fake: FakeProvider;
let priceServer: Server;
let priceBaseUrl: string;
beforeAll(async () => {
  fake = await startFakeProvider();
  priceServer = createServer((request, response) => {
    const body = request.url === '/a.json' ? pricesData(1, 2, 0.5) : request.url === '/b.json' ? pricesData(2, 4, 1) : undefined;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => priceServer.listen(0, '127.0.0.1', resolve));
  priceBaseUrl = `http://127.0.0.1:${(priceServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await fake.close();
  await new Promise<void>((resolve) => priceServer.close(() => resolve()));
});

describe('utt prices explain', () => {
  let workdir: string;
  beforeEach(async () => {
    workdir = await makeWorkdir();
  });
  afterEach(async () => {
    await removeWorkdir(workdir);
  });

  it('answers for a sample of models across the bundled registry', async () => {
    const config = await writeConfig(workdir, `database:\n  path: ${JSON.stringify(path.join(workdir, 'db'))}\n`, 'sources: []\n');
    const entries = (await loadBundledRegistry()).providers.flatMap((provider) => provider.models.map((model) => ({ provider: provider.id, model: model.id })));
    // Evenly spread over the registry, so the sample reaches many providers.
    const sample = [0, 1, 2, 3, 4, 5].map((index) => entries[Math.floor((index * entries.length) / 6)] as { provider: string; model: string });
    for (const { provider, model } of sample) {
      const result = await runCli(['prices', 'explain', '--provider', provider, '--model', model, '--at', '2026-10-01', '--json', '--config', config], { cwd: workdir });
      expect(result.code, `${provider}/${model}: ${result.stderr}`).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ found: true, source: 'genai-prices@0.1.8', at: '2026-10-01T00:00:00.000Z' });
    }
  });

  it('names the source, key, strategy and rates, and says when there is no price', async () => {
    const config = await writeConfig(
      workdir,
      `database:\n  path: ${JSON.stringify(path.join(workdir, 'db'))}\n`,
      'pricing:\n  anthropic/claude-sonnet-4-5: { input: 3, output: 15 }\n',
    );
    const found = await runCli(['prices', 'explain', '--provider', 'anthropic', '--model', 'claude-sonnet-4-5-20250929', '--config', config], { cwd: workdir });
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('source:     config');
    expect(found.stdout).toContain('key:        anthropic/claude-sonnet-4-5');
    expect(found.stdout).toContain('strategy:   date_suffix_stripped');
    expect(found.stdout).toContain('missing:    cacheRead, cacheWrite, cacheWrite1h');
    const registry = await runCli(['prices', 'explain', '--provider', 'openai', '--model', 'o3', '--at', '2025-06-01', '--config', config], { cwd: workdir });
    // o3 before its 2025-06-10 price cut: $10/M input, $40/M output (https://platform.openai.com/docs/pricing).
    expect(registry.stdout).toMatch(/input\s+10\n\s+output\s+40\n/);
    expect(registry.stdout).toContain('versions: base, 2025-06-10');
    const missing = await runCli(['prices', 'explain', '--provider', 'ollama', '--model', 'llama3.3:70b', '--config', config], { cwd: workdir });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('no price: searched config, genai-prices@0.1.8');
  });
});

describe.each(backends())('pricing on $name', (backend) => {
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

  async function select<T>(sql: string): Promise<T[]> {
    const store = await database.open();
    try {
      return await store.client.query<T>(sql.replaceAll('utt_schema', `"${store.schema}"`));
    } finally {
      await store.close();
    }
  }

  const fixtureSource = `sources:\n  - name: good\n    adapter: utt-adapter-fixture\n    config:\n      baseUrl: ${'${FAKE_URL}'}/ok\n      token: x\n`;
  const costs = () =>
    select<{ id: number; model: string; cost_usd: string | null; price_ref: string | null }>(
      `SELECT id, model, cost_usd::text AS cost_usd, price_ref FROM utt_schema.token_usage WHERE source_system = 'fixture_api' ORDER BY id`,
    );

  it("keeps a row's cost when the registry updates, until utt reprice runs", async () => {
    const env = { ...database.env, FAKE_URL: fake.baseUrl };
    const config = await writeConfig(workdir, database.databaseYaml, `pricing:\n  file: prices.json\n  updateUrl: ${priceBaseUrl}/a.json\n${fixtureSource}`);
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: workdir, env });

    const updated = await cli(['prices', 'update']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('wrote 1 providers, 2 models');
    // The file was fetched today: a year from now it is older than the 30-day default of pricing.maxAge.
    const stale = await cli(['prices', 'check', '--now', new Date(Date.now() + 365 * 86_400_000).toISOString()]);
    expect(stale.code).toBe(2);
    expect(stale.stdout).toMatch(/prices file .*prices\.json was fetched 36\d days ago .* older than pricing\.maxAge/);
    expect((await cli(['run', '--now', NOW])).code).toBe(0);
    const before = await costs();
    expect(before.length).toBeGreaterThan(0);
    for (const row of before) {
      expect(row.cost_usd).not.toBeNull();
      expect(row.price_ref).toMatch(new RegExp(`^file@\\d{4}-\\d{2}-\\d{2}#[0-9a-f]{8}:fakeai/${row.model}@base$`));
    }

    // The operator fetches new prices (every rate doubled); the next cycle re-collects the same buckets.
    expect((await cli(['prices', 'update', '--url', `${priceBaseUrl}/b.json`])).code).toBe(0);
    expect((await cli(['run', '--now', NOW])).code).toBe(0);
    expect(await costs()).toEqual(before);

    const dryRun = await cli(['reprice', '--since', '2026-10-01', '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain(`${before.length} change`);
    expect(dryRun.stdout).toContain('dry run: nothing written');
    expect(await costs()).toEqual(before);

    const repriced = await cli(['reprice', '--since', '2026-10-01']);
    expect(repriced.code, repriced.stderr).toBe(0);
    expect(repriced.stdout).toContain(`re-priced ${before.length} rows`);
    const after = await costs();
    after.forEach((row, index) => {
      const old = before[index];
      expect(row.id).toBe(old?.id);
      // Every rate doubled, so every cost doubles exactly.
      expect(toScaledInteger(row.cost_usd as string, 24)).toBe(2n * toScaledInteger(old?.cost_usd as string, 24));
      expect(row.price_ref).not.toBe(old?.price_ref);
    });
  });

  it('keeps unpriced usage visible: report, verify and prices check', async () => {
    const env = { ...database.env, FAKE_URL: fake.baseUrl };
    const config = await writeConfig(workdir, database.databaseYaml, fixtureSource);
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: workdir, env });
    expect((await cli(['run', '--now', NOW])).code).toBe(0);

    const reasons = await select<{ cost_usd: string | null; unpriced_reason: string | null }>(
      `SELECT DISTINCT cost_usd, unpriced_reason FROM utt_schema.token_usage WHERE source_system = 'fixture_api'`,
    );
    expect(reasons).toEqual([{ cost_usd: null, unpriced_reason: 'no_price' }]);

    const report = await cli(['report', '--since', '2026-10-01', '--by', 'model', '--json']);
    const rows = JSON.parse(report.stdout) as Array<{ key: string; costUsd: string | null; unpricedTokens: number }>;
    const alpha = rows.find((row) => row.key.includes('alpha'));
    expect(alpha?.costUsd).toBeNull();
    expect(alpha?.unpricedTokens).toBeGreaterThan(0);
    const text = await cli(['report', '--since', '2026-10-01', '--by', 'model']);
    expect(text.stdout).toMatch(/tokens have no price \(not counted as \$0/);
    expect(text.stdout).not.toContain('$0.00');
    expect(text.stdout).toContain('no priced spend; 44,322 tokens have no price');

    const verified = await cli(['verify']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/info {2}unpriced-models: 2 without a price \(cost NULL, not \$0\): fakeai\/alpha \(no_price; .*fakeai\/beta \(no_price;/);

    const checked = await cli(['prices', 'check', '--now', NOW]);
    expect(checked.code).toBe(2);
    expect(checked.stdout).toContain('unpriced: fakeai/alpha (no_price;');

    // A price appears in config: check points at reprice, and reprice fills the rows.
    const priced = await writeConfig(workdir, database.databaseYaml, `pricing:\n  fakeai/alpha: { input: 1, output: 2, cacheRead: 0.5 }\n  beta: { input: 1, output: 2 }\n${fixtureSource}`);
    const hint = await runCli(['prices', 'check', '--config', priced, '--now', NOW], { cwd: workdir, env });
    expect(hint.stdout).toContain('now matches config:fakeai/alpha, run utt reprice');
    expect((await runCli(['reprice', '--since', '2026-10-01', '--config', priced], { cwd: workdir, env })).code).toBe(0);
    const after = await runCli(['prices', 'check', '--config', priced, '--now', NOW], { cwd: workdir, env });
    expect(after.stdout, after.stdout).toContain('ok: every model with tokens has a price');
    expect(after.code).toBe(0);
  });

  it('prices an import per request, so a long-context tier applies to the request and not the bucket', async () => {
    const csv = path.join(workdir, 'requests.csv');
    // Two requests of one day: 150k in + 1k out at base ($1/M, $2/M) = 0.152; 250k in + 1k out above 200k ($2/M, $4/M) = 0.504.
    await writeFile(csv, 'bucket_start,provider,model,input_tokens,output_tokens,requests\n2026-10-01T09:00:00Z,acme,tiered,150000,1000,1\n2026-10-01T10:00:00Z,acme,tiered,250000,1000,1\n');
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      'pricing:\n  overrides:\n    acme/tiered: { input: 1, output: 2, longContext: { above: 200000, input: 2, output: 4 } }\n',
    );
    const imported = await runCli(['import', csv, '--config', config], { cwd: workdir, env: database.env });
    expect(imported.code, imported.stderr).toBe(0);
    const [row] = await select<{ cost_usd: string; cost_source: string; price_ref: string }>(
      `SELECT cost_usd::text AS cost_usd, cost_source, price_ref FROM utt_schema.token_usage WHERE source_system = 'manual'`,
    );
    // Summed into one 400k "request" it would have been 0.808.
    expect(Number(row?.cost_usd)).toBe(0.656);
    expect(row).toMatchObject({ cost_source: 'computed', price_ref: 'per-request:config:acme/tiered@base|config:acme/tiered@base;tier>200000' });
  });

  it('re-prices an import priced per request when it is imported again with --reprice, as utt reprice says', async () => {
    const csv = path.join(workdir, 'requests.csv');
    await writeFile(csv, 'bucket_start,provider,model,input_tokens,output_tokens,requests\n2026-10-01T09:00:00Z,acme,tiered,150000,1000,1\n2026-10-01T10:00:00Z,acme,tiered,250000,1000,1\n');
    const withPrices = (input: number) =>
      writeConfig(workdir, database.databaseYaml, `pricing:\n  overrides:\n    acme/tiered: { input: ${input}, output: 2, longContext: { above: 200000, input: ${2 * input}, output: 4 } }\n`);
    const cost = async () =>
      (await select<{ cost_usd: string }>(`SELECT cost_usd::text AS cost_usd FROM utt_schema.token_usage WHERE source_system = 'manual'`)).map((row) => Number(row.cost_usd));
    expect((await runCli(['import', csv, '--config', await withPrices(1)], { cwd: workdir, env: database.env })).code).toBe(0);
    expect(await cost()).toEqual([0.656]);

    // The input price was wrong: ten times it. reprice leaves the per-request cell to a re-import, and says how.
    const corrected = await withPrices(10);
    const repriced = await runCli(['reprice', '--since', '2026-10-01', '--config', corrected], { cwd: workdir, env: database.env });
    expect(repriced.stdout).toContain('1 rows priced per request by an import were left alone: import their file again with utt import FILE --reprice');
    // A plain re-import is a replay: the stored cost stays.
    expect((await runCli(['import', csv, '--config', corrected], { cwd: workdir, env: database.env })).code).toBe(0);
    expect(await cost()).toEqual([0.656]);
    const again = await runCli(['import', csv, '--reprice', '--config', corrected], { cwd: workdir, env: database.env });
    expect(again.code, again.stderr).toBe(0);
    // 150k × $10/M + 1k × $2/M = 1.502; 250k × $20/M + 1k × $4/M = 5.004.
    expect(await cost()).toEqual([6.506]);
  });
});
