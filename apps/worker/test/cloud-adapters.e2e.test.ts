import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, REPO_ROOT, removeWorkdir, runCli, writeConfig } from './helpers/cli';

// The adapters' own recorded-shape fixtures, served over real HTTP on loopback.
const fixture = (adapter: string, name: string): string =>
  readFileSync(path.join(REPO_ROOT, 'packages', adapter, 'src/__fixtures__', name), 'utf8');
const OPENAI = {
  completions1: fixture('adapter-openai-usage', 'completions-1h-page-1.json'),
  completions2: fixture('adapter-openai-usage', 'completions-1h-page-2.json'),
  embeddings: fixture('adapter-openai-usage', 'embeddings-1h.json'),
  costs: fixture('adapter-openai-usage', 'costs-1d.json'),
  cursor: 'page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=',
};
const ANTHROPIC = {
  messages1: fixture('adapter-anthropic-usage', 'messages-1h-page-1.json'),
  messages2: fixture('adapter-anthropic-usage', 'messages-1h-page-2.json'),
  costs: fixture('adapter-anthropic-usage', 'cost-report-1d.json'),
  cursor: 'page_MjAyNi0wOS0wMVQwMjowMDowMFo=',
};

const OPENAI_KEY = 'sk-admin-E2E-CANARY-71d3c0a9';
const ANTHROPIC_KEY = 'sk-ant-admin01-E2E-CANARY-4be28f16';
const NOW = '2026-09-01T03:10:00Z';
const SINCE = '2026-09-01T00:00:00Z';
const UNTIL = '2026-09-01T03:00:00Z';

type Served = { path: string; query: string; authorization?: string; apiKey?: string };

let server: Server;
let baseUrl: string;
const served: Served[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    served.push({
      path: url.pathname,
      query: url.search,
      authorization: request.headers.authorization,
      apiKey: request.headers['x-api-key'] as string | undefined,
    });
    const send = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    };
    const page = url.searchParams.get('page');
    if (url.pathname.startsWith('/openai/')) {
      if (request.headers.authorization !== `Bearer ${OPENAI_KEY}`) return send(401, '{"error":{"message":"Incorrect API key provided"}}');
      if (url.pathname.endsWith('/usage/completions')) return send(200, page === OPENAI.cursor ? OPENAI.completions2 : OPENAI.completions1);
      if (url.pathname.endsWith('/usage/embeddings')) return send(200, OPENAI.embeddings);
      if (url.pathname.endsWith('/costs')) return send(200, OPENAI.costs);
    }
    if (url.pathname.startsWith('/anthropic/')) {
      if (request.headers['x-api-key'] !== ANTHROPIC_KEY) {
        return send(401, '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}');
      }
      if (url.pathname.endsWith('/usage_report/messages')) return send(200, page === ANTHROPIC.cursor ? ANTHROPIC.messages2 : ANTHROPIC.messages1);
      if (url.pathname.endsWith('/cost_report')) return send(200, ANTHROPIC.costs);
    }
    send(404, '{"error":{"message":"no such fake endpoint"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// Every model is priced here, so the computed side is fixed by this file alone (USD per million tokens).
const PRICING = `pricing:
  openai/gpt-5.2-2026-01-15: { input: 1, output: 10, cacheRead: 0.1, cacheWrite: 1 }
  openai/gpt-5-mini-2025-08-07: { input: 0.2, output: 2, cacheRead: 0.02 }
  openai/text-embedding-3-small: { input: 0.02 }
  anthropic/claude-sonnet-4-6: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 }
  anthropic/claude-haiku-4-5: { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25, cacheWrite1h: 2 }
`;

function sources(): string {
  return `sources:
  - name: openai
    adapter: "@utt/adapter-openai-usage"
    settle: 2d
    config:
      adminKey: \${OPENAI_ADMIN_KEY}
      baseUrl: ${baseUrl}/openai/v1
      groupBy: [project, batch, service_tier]
  - name: anthropic
    adapter: "@utt/adapter-anthropic-usage"
    settle: 2d
    config:
      adminKey: \${ANTHROPIC_ADMIN_KEY}
      baseUrl: ${baseUrl}/anthropic
      groupBy: [api_key, workspace, service_tier, context_window]
`;
}

const USAGE_SQL = `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
  input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
  cost_usd, cost_source, measurement_basis, created_at
  FROM utt_schema.token_usage ORDER BY source_system, bucket_start, model COLLATE "C", labels::text COLLATE "C"`;
const COST_SQL = `SELECT source_system, source_instance, bucket_start, provider, account, model, line_item, amount_usd, currency, created_at
  FROM utt_schema.provider_cost ORDER BY source_system, line_item COLLATE "C"`;

const H0 = new Date('2026-09-01T00:00:00Z');
const H2 = new Date('2026-09-01T02:00:00Z');
const usage = (row: Record<string, unknown>) => ({
  granularity: 'hour',
  user_id: '',
  reasoning_tokens: null,
  cost_source: 'computed',
  measurement_basis: 'exact',
  ...row,
});

// Written by hand from the fixtures and the prices above.
const OPENAI_ROWS = [
  // 182000 input incl. 120000 cache reads and 4000 cache writes: 58000 uncached.
  // 58000×1 + 9100×10 + 120000×0.1 + 4000×1 = 165000 µ$ = $0.165.
  usage({ source_system: 'openai_api', source_instance: 'openai', bucket_start: H0, provider: 'openai', model: 'gpt-5-mini-2025-08-07', account: 'proj_alpha', api_key: '', labels: { endpoint: 'completions', batch: 'false', service_tier: 'default' }, input_tokens: 5000, output_tokens: 700, cached_read_tokens: 0, cached_write_tokens: null, cached_write_1h_tokens: null, requests: 9, cost_usd: '0.0024' }),
  usage({ source_system: 'openai_api', source_instance: 'openai', bucket_start: H0, provider: 'openai', model: 'gpt-5.2-2026-01-15', account: 'proj_alpha', api_key: '', labels: { endpoint: 'completions', batch: 'false', service_tier: 'default' }, input_tokens: 58000, output_tokens: 9100, cached_read_tokens: 120000, cached_write_tokens: 4000, cached_write_1h_tokens: null, requests: 42, cost_usd: '0.165' }),
  usage({ source_system: 'openai_api', source_instance: 'openai', bucket_start: H0, provider: 'openai', model: 'text-embedding-3-small', account: 'proj_alpha', api_key: '', labels: { endpoint: 'embeddings' }, input_tokens: 3000, output_tokens: null, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null, requests: 5, cost_usd: '0.00006' }),
  // Flex is billed at half price: (1000×1 + 50×10) × 0.5 = 750 µ$.
  usage({ source_system: 'openai_api', source_instance: 'openai', bucket_start: H2, provider: 'openai', model: 'gpt-5.2-2026-01-15', account: '', api_key: '', labels: { endpoint: 'completions', batch: 'true', service_tier: 'flex' }, input_tokens: 1000, output_tokens: 50, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null, requests: 2, cost_usd: '0.00075' }),
];
const ANTHROPIC_ROWS = [
  // 900×1 + 120×5 = 1500 µ$.
  usage({ source_system: 'anthropic_api', source_instance: 'anthropic', bucket_start: H0, provider: 'anthropic', model: 'claude-haiku-4-5', account: '', api_key: '', labels: { service_tier: 'standard', context_window: '0-200k' }, input_tokens: 900, output_tokens: 120, cached_read_tokens: 0, cached_write_tokens: 0, cached_write_1h_tokens: 0, requests: null, cost_usd: '0.0015' }),
  // 15400×3 + 23100×15 + 812000×0.3 + 41000×3.75 + 2000×6 = 802050 µ$.
  usage({ source_system: 'anthropic_api', source_instance: 'anthropic', bucket_start: H0, provider: 'anthropic', model: 'claude-sonnet-4-6', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT', labels: { service_tier: 'standard', context_window: '0-200k' }, input_tokens: 15400, output_tokens: 23100, cached_read_tokens: 812000, cached_write_tokens: 43000, cached_write_1h_tokens: 2000, requests: null, cost_usd: '0.80205' }),
  // Batch at half price: (5000×3 + 800×15) × 0.5 = 13500 µ$.
  usage({ source_system: 'anthropic_api', source_instance: 'anthropic', bucket_start: H2, provider: 'anthropic', model: 'claude-sonnet-4-6', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT', labels: { service_tier: 'batch', context_window: '0-200k' }, input_tokens: 5000, output_tokens: 800, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null, requests: null, cost_usd: '0.0135' }),
];

const cost = (row: Record<string, unknown>) => ({ bucket_start: H0, currency: 'USD', ...row });
const OPENAI_COSTS = [
  cost({ source_system: 'openai_api', source_instance: 'openai', provider: 'openai', account: 'proj_alpha', model: '', line_item: 'Web search tool calls', amount_usd: '0.03' }),
  cost({ source_system: 'openai_api', source_instance: 'openai', provider: 'openai', account: 'proj_alpha', model: 'gpt-5.2', line_item: 'gpt-5.2, cached input', amount_usd: '0.0255' }),
  cost({ source_system: 'openai_api', source_instance: 'openai', provider: 'openai', account: 'proj_alpha', model: 'gpt-5.2', line_item: 'gpt-5.2, input', amount_usd: '0.42' }),
  cost({ source_system: 'openai_api', source_instance: 'openai', provider: 'openai', account: '', model: 'gpt-5.2', line_item: 'gpt-5.2, output', amount_usd: '0.1281' }),
];
// The cost report's amounts are cents: "4821.337" is $48.21337.
const ANTHROPIC_COSTS = [
  cost({ source_system: 'anthropic_api', source_instance: 'anthropic', provider: 'anthropic', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', model: 'claude-sonnet-4-6', line_item: 'Claude Sonnet 4.6 Usage - Cache Read', amount_usd: '243.6' }),
  cost({ source_system: 'anthropic_api', source_instance: 'anthropic', provider: 'anthropic', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', model: 'claude-sonnet-4-6', line_item: 'Claude Sonnet 4.6 Usage - Input Tokens', amount_usd: '48.21337' }),
  cost({ source_system: 'anthropic_api', source_instance: 'anthropic', provider: 'anthropic', account: '', model: '', line_item: 'Code Execution Usage', amount_usd: '0.0075' }),
  cost({ source_system: 'anthropic_api', source_instance: 'anthropic', provider: 'anthropic', account: '', model: '', line_item: 'Web Search Usage', amount_usd: '0.05' }),
];

describe.each(backends())('cloud provider adapters through the utt CLI on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;

  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
    served.length = 0;
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  async function select(sql: string) {
    const store = await database.open();
    try {
      const rows = await store.client.query<Record<string, unknown>>(sql.replaceAll('utt_schema', `"${store.schema}"`));
      // NUMERIC comes back with the scale of its computation; compare values, not trailing zeros.
      return rows.map((row) => ({ ...row, ...numeric(row, 'cost_usd'), ...numeric(row, 'amount_usd') }));
    } finally {
      await store.close();
    }
  }
  const withoutCreatedAt = (rows: Record<string, unknown>[]) => rows.map(({ created_at: _createdAt, ...rest }) => rest);

  it('backfills token_usage and provider_cost with exactly the served numbers; a second run changes nothing; --reconcile shows the gap', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `${PRICING}${sources()}`);
    const env = { ...database.env, OPENAI_ADMIN_KEY: OPENAI_KEY, ANTHROPIC_ADMIN_KEY: ANTHROPIC_KEY };
    const backfill = (source: string) =>
      runCli(['backfill', '--config', config, '--source', source, '--since', SINCE, '--until', UNTIL, '--now', NOW], { cwd: workdir, env });

    for (const source of ['openai', 'anthropic']) {
      const result = await backfill(source);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(OPENAI_KEY);
      expect(result.stdout + result.stderr).not.toContain(ANTHROPIC_KEY);
    }
    expect(withoutCreatedAt(await select(USAGE_SQL))).toEqual([...ANTHROPIC_ROWS, ...OPENAI_ROWS]);
    expect(withoutCreatedAt(await select(COST_SQL))).toEqual([...ANTHROPIC_COSTS, ...OPENAI_COSTS]);

    // The windows went out exactly: unix seconds to OpenAI, RFC 3339 to Anthropic; keys only in their headers.
    expect(served.find((request) => request.path === '/openai/v1/organization/usage/completions')?.query).toContain(
      'start_time=1788220800&end_time=1788231600&bucket_width=1h',
    );
    expect(served.find((request) => request.path === '/anthropic/v1/organizations/usage_report/messages')?.query).toContain(
      'starting_at=2026-09-01T00%3A00%3A00Z&ending_at=2026-09-01T03%3A00%3A00Z&bucket_width=1h',
    );
    expect(served.map((request) => request.query).join(' ')).not.toMatch(/CANARY/);

    // Invariant 1: the same backfill again leaves the same rows and the same numbers.
    const usageBefore = await select(USAGE_SQL);
    const costsBefore = await select(COST_SQL);
    for (const source of ['openai', 'anthropic']) expect((await backfill(source)).code).toBe(0);
    expect(await select(USAGE_SQL)).toEqual(usageBefore);
    expect(await select(COST_SQL)).toEqual(costsBefore);

    const reconcile = await runCli(['report', '--reconcile', '--json', '--config', config], { cwd: workdir, env });
    expect(reconcile.code, reconcile.stderr).toBe(0);
    // Billed: OpenAI 0.42 + 0.0255 + 0.1281 + 0.03 = 0.6036; Anthropic 48.21337 + 243.6 + 0.05 + 0.0075 = 291.87087.
    // Computed: OpenAI 0.0024 + 0.165 + 0.00006 + 0.00075 = 0.16821; Anthropic 0.0015 + 0.80205 + 0.0135 = 0.81705.
    expect(JSON.parse(reconcile.stdout)).toEqual([
      { day: '2026-09-01T00:00:00.000Z', sourceSystem: 'anthropic_api', provider: 'anthropic', billedUsd: '291.87087', computedUsd: '0.81705', gapPercent: '-99.72', unpricedRows: 0 },
      { day: '2026-09-01T00:00:00.000Z', sourceSystem: 'openai_api', provider: 'openai', billedUsd: '0.6036', computedUsd: '0.16821', gapPercent: '-72.13', unpricedRows: 0 },
    ]);
    const table = await runCli(['report', '--reconcile', '--config', config], { cwd: workdir, env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/2026-09-01\s+openai_api\s+openai\s+\$0\.60\s+\$0\.17\s+-72\.13%/);
    expect(table.stdout).toMatch(/2026-09-01\s+anthropic_api\s+anthropic\s+\$291\.87\s+\$0\.82\s+-99\.72%/);
  }, 180_000); // eight CLI runs, each opening the embedded database

  it('fails only the source whose key is refused, naming the permission, and exits 2', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `${PRICING}${sources()}`);
    const env = { ...database.env, OPENAI_ADMIN_KEY: 'sk-admin-WRONG-key-0000', ANTHROPIC_ADMIN_KEY: ANTHROPIC_KEY };
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/openai\s+openai_api\s+error/);
    expect(result.stdout + result.stderr).toContain('organization Admin API key');
    expect(result.stdout + result.stderr).not.toContain('sk-admin-WRONG-key-0000');
    const [status] = await select(`SELECT status, last_error FROM utt_schema.watchdog_status WHERE source = 'openai'`);
    expect(status?.status).toBe('error');
    expect(String(status?.last_error)).toMatch(/answered 401: the admin key was refused/);
    const counts = await select(`SELECT source_system, COUNT(*)::int AS n FROM utt_schema.token_usage GROUP BY 1 ORDER BY 1`);
    expect(counts).toEqual([{ source_system: 'anthropic_api', n: 3 }]);
  });
});

function numeric(row: Record<string, unknown>, column: string): Record<string, unknown> {
  const value = row[column];
  if (typeof value !== 'string' || !value.includes('.')) return {};
  return { [column]: value.replace(/0+$/, '').replace(/\.$/, '') };
}
