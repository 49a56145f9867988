import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, REPO_ROOT, removeWorkdir, runCli, writeConfig } from './helpers/cli';

// The adapter's own recorded-shape fixtures, served over real HTTP on loopback.
const fixture = (name: string): string => readFileSync(path.join(REPO_ROOT, 'packages/adapter-copilot/src/__fixtures__', name), 'utf8');
const REPORT_FILES: Record<string, readonly string[]> = {
  '2026-09-14': ['organization-1-day-2026-09-14.ndjson', 'organization-1-day-2026-09-14-part-2.ndjson'],
  '2026-09-15': ['organization-1-day-2026-09-15.ndjson'],
};
const BILLING: Record<string, string> = {
  'premium_request:2026-09-14': fixture('premium-request-usage-2026-09-14.json'),
  'premium_request:2026-09-15': fixture('premium-request-usage-2026-09-15.json'),
  'ai_credit:2026-09-14': fixture('ai-credit-usage-2026-09-14.json'),
  'ai_credit:2026-09-15': fixture('ai-credit-usage-2026-09-15.json'),
};

const ORG = 'octo-org';
const TOKEN = 'ghp_E2E-CANARY-copilot-5c81d7e2';
/** The signed links' own credential: it must stay out of output and database as much as the token. */
const SIGNATURE = 'SIG-E2E-CANARY-0b9e44';
const NOW = '2026-09-16T06:00:00Z';
const SINCE = '2026-09-14T00:00:00Z';
const UNTIL = '2026-09-16T00:00:00Z';

type Served = { path: string; query: URLSearchParams; authorization?: string; apiVersion?: string };

let server: Server;
let baseUrl: string;
const served: Served[] = [];
/** Makes the download host refuse every link, as it does once a signature has expired. */
let refuseDownloads = false;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    served.push({
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
      apiVersion: request.headers['x-github-api-version'] as string | undefined,
    });
    const send = (status: number, body: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    // The download "host": its own path, its own credential in the query, no GitHub token expected.
    if (url.pathname.startsWith('/report-downloads/')) {
      if (refuseDownloads || url.searchParams.get('sig') !== SIGNATURE) return send(403, '<Error><Code>AuthenticationFailed</Code></Error>', 'application/xml');
      return send(200, fixture(url.pathname.slice('/report-downloads/'.length)), 'application/x-ndjson');
    }
    if (!url.pathname.startsWith('/github/')) return send(404, '{"message":"Not Found"}');
    if (request.headers.authorization !== `Bearer ${TOKEN}`) return send(401, '{"message":"Bad credentials"}');
    const api = url.pathname.slice('/github'.length);
    if (api === `/orgs/${ORG}/copilot/metrics/reports/organization-1-day`) {
      const day = url.searchParams.get('day') ?? '';
      const files = REPORT_FILES[day];
      if (!files) return send(204, '');
      const links = files.map((file) => `${baseUrl}/report-downloads/${file}?sv=2026-03-10&se=2026-09-16T06%3A10%3A00Z&sig=${SIGNATURE}`);
      return send(200, JSON.stringify({ download_links: links, report_day: day }));
    }
    const billing = /^\/organizations\/octo-org\/settings\/billing\/(premium_request|ai_credit)\/usage$/.exec(api);
    if (billing) {
      const q = url.searchParams;
      const body = BILLING[`${billing[1]}:${q.get('year')}-${q.get('month')?.padStart(2, '0')}-${q.get('day')?.padStart(2, '0')}`];
      if (body) return send(200, body);
    }
    send(404, '{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function sources(): string {
  return `sources:
  - name: copilot
    adapter: "@utt/adapter-copilot"
    config:
      org: ${ORG}
      token: \${GITHUB_TOKEN}
      baseUrl: ${baseUrl}/github
`;
}

const USAGE_SQL = `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
  input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
  cost_usd, cost_source, measurement_basis, created_at
  FROM utt_schema.token_usage
  ORDER BY bucket_start, labels->>'metric_set' COLLATE "C", model COLLATE "C", labels::text COLLATE "C"`;
const COST_SQL = `SELECT source_system, source_instance, bucket_start, provider, account, model, line_item, amount_usd, currency, created_at
  FROM utt_schema.provider_cost ORDER BY bucket_start, line_item COLLATE "C", model COLLATE "C"`;

const D14 = new Date('2026-09-14T00:00:00Z');
const D15 = new Date('2026-09-15T00:00:00Z');
const row = (fields: Record<string, unknown>) => ({
  source_system: 'copilot',
  source_instance: 'copilot',
  granularity: 'day',
  provider: 'github',
  account: ORG,
  api_key: '',
  user_id: '',
  // No Copilot endpoint reports tokens and no estimate is configured: unknown, never 0.
  input_tokens: null,
  output_tokens: null,
  cached_read_tokens: null,
  cached_write_tokens: null,
  cached_write_1h_tokens: null,
  reasoning_tokens: null,
  requests: null,
  cost_usd: null,
  cost_source: null,
  measurement_basis: 'provider_aggregate',
  ...fields,
});
const interactions = (bucket_start: Date, model: string, feature: string, requests: number) =>
  row({ bucket_start, model, labels: { metric_set: 'interactions', feature }, requests });

// Written by hand from the fixture files.
const USAGE_ROWS = [
  row({
    bucket_start: D14,
    model: '',
    labels: {
      metric_set: 'activity',
      daily_active_users: '17',
      weekly_active_users: '25',
      monthly_active_users: '31',
      monthly_active_chat_users: '20',
      monthly_active_agent_users: '6',
      user_initiated_interaction_count: '143',
      code_generation_activity_count: '512',
      code_acceptance_activity_count: '187',
      loc_suggested_to_add_sum: '1320',
      loc_suggested_to_delete_sum: '88',
      loc_added_sum: '410',
      loc_deleted_sum: '52',
    },
  }),
  // AI credits are not requests: requests NULL, the net $2.00 (1200 gross − 1000 included, at $0.01).
  row({ bucket_start: D14, model: 'Claude Sonnet 4.6', labels: { metric_set: 'ai_credits', sku: 'AI Credit' }, cost_usd: '2', cost_source: 'provider' }),
  interactions(D14, 'claude-sonnet-4.6', 'chat_panel_agent_mode', 61),
  interactions(D14, 'gpt-4.1', 'chat_panel_ask_mode', 82),
  interactions(D14, 'gpt-4.1', 'code_completion', 0),
  // 120 gross premium requests (already counted as interactions: requests stays NULL), net $0.80 after the 100 included.
  row({ bucket_start: D14, model: 'Claude Sonnet 4.6', labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' }, cost_usd: '0.8', cost_source: 'provider' }),
  // 4.5 (multiplied) premium requests, $0.18 billed.
  row({ bucket_start: D14, model: 'o4-mini', labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' }, cost_usd: '0.18', cost_source: 'provider' }),
  row({
    bucket_start: D15,
    model: '',
    labels: {
      metric_set: 'activity',
      daily_active_users: '12',
      weekly_active_users: '24',
      monthly_active_users: '31',
      user_initiated_interaction_count: '40',
      code_generation_activity_count: '300',
      code_acceptance_activity_count: '90',
      loc_suggested_to_add_sum: '800',
      loc_suggested_to_delete_sum: '20',
      loc_added_sum: '150',
      loc_deleted_sum: '10',
    },
  }),
  interactions(D15, 'gpt-4.1', 'chat_panel_ask_mode', 40),
  interactions(D15, 'gpt-4.1', 'code_completion', 0),
  // All 30 requests inside the allowance: billed $0, a known zero (not NULL).
  row({ bucket_start: D15, model: 'Claude Sonnet 4.6', labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' }, cost_usd: '0', cost_source: 'provider' }),
];

const cost = (fields: Record<string, unknown>) => ({
  source_system: 'copilot',
  source_instance: 'copilot',
  provider: 'github',
  account: ORG,
  currency: 'USD',
  ...fields,
});
const COST_ROWS = [
  cost({ bucket_start: D14, model: 'Claude Sonnet 4.6', line_item: 'ai_credits:AI Credit', amount_usd: '2' }),
  cost({ bucket_start: D14, model: 'Claude Sonnet 4.6', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0.8' }),
  cost({ bucket_start: D14, model: 'o4-mini', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0.18' }),
  cost({ bucket_start: D15, model: 'Claude Sonnet 4.6', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0' }),
];

describe.each(backends())('GitHub Copilot through the utt CLI on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;

  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
    served.length = 0;
    refuseDownloads = false;
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
      return rows.map((item) => ({ ...item, ...numeric(item, 'cost_usd'), ...numeric(item, 'amount_usd') }));
    } finally {
      await store.close();
    }
  }
  /** Every row of the tables a secret could leak into, as text. */
  async function databaseText(): Promise<string> {
    const tables = ['token_usage', 'provider_cost', 'watchdog_status', 'source_state', 'rollup_watermark'];
    const dumps = await Promise.all(tables.map((table) => select(`SELECT t::text AS line FROM utt_schema.${table} t`)));
    return dumps.flat().map((item) => String(item.line)).join('\n');
  }
  const withoutCreatedAt = (rows: Record<string, unknown>[]) => rows.map(({ created_at: _createdAt, ...rest }) => rest);

  async function setup() {
    const config = await writeConfig(workdir, database.databaseYaml, sources());
    const env = { ...database.env, GITHUB_TOKEN: TOKEN };
    const backfill = () => runCli(['backfill', '--config', config, '--source', 'copilot', '--since', SINCE, '--until', UNTIL, '--now', NOW], { cwd: workdir, env });
    return { config, env, backfill };
  }

  it('backfills token_usage and provider_cost with exactly the served numbers; a second run changes nothing; --reconcile shows billed vs computed', async () => {
    const { config, env, backfill } = await setup();

    const first = await backfill();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/copilot\s+copilot\s+ok\s+2026-09-14T00:00Z → 2026-09-16T00:00Z \(day\)\s+11\s/);
    expect(withoutCreatedAt(await select(USAGE_SQL))).toEqual(USAGE_ROWS);
    expect(withoutCreatedAt(await select(COST_SQL))).toEqual(COST_ROWS);
    expect(await select(`SELECT source, source_system, status, last_error, rows_written::int AS rows_written FROM utt_schema.watchdog_status WHERE source = 'copilot'`)).toEqual([
      { source: 'copilot', source_system: 'copilot', status: 'ok', last_error: null, rows_written: 11 },
    ]);

    // What went over the wire: one report call per finished day, each signed link fetched once, billing per day.
    const api = served.filter((request) => request.path.startsWith('/github/'));
    const downloads = served.filter((request) => request.path.startsWith('/report-downloads/'));
    expect(api.map((request) => `${request.path}?${request.query.toString()}`).sort()).toEqual([
      `/github/organizations/${ORG}/settings/billing/ai_credit/usage?year=2026&month=9&day=14`,
      `/github/organizations/${ORG}/settings/billing/ai_credit/usage?year=2026&month=9&day=15`,
      `/github/organizations/${ORG}/settings/billing/premium_request/usage?year=2026&month=9&day=14`,
      `/github/organizations/${ORG}/settings/billing/premium_request/usage?year=2026&month=9&day=15`,
      `/github/orgs/${ORG}/copilot/metrics/reports/organization-1-day?day=2026-09-14`,
      `/github/orgs/${ORG}/copilot/metrics/reports/organization-1-day?day=2026-09-15`,
    ]);
    for (const request of api) {
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.apiVersion).toBe('2026-03-10');
    }
    expect(downloads.map((request) => request.path).sort()).toEqual([
      '/report-downloads/organization-1-day-2026-09-14-part-2.ndjson',
      '/report-downloads/organization-1-day-2026-09-14.ndjson',
      '/report-downloads/organization-1-day-2026-09-15.ndjson',
    ]);
    // The links are pre-signed: the GitHub token never goes to the download host.
    expect(downloads.map((request) => request.authorization)).toEqual([undefined, undefined, undefined]);

    // Invariant 1: the same backfill again asks again and leaves the same rows, numbers and created_at.
    const usageBefore = await select(USAGE_SQL);
    const costsBefore = await select(COST_SQL);
    served.length = 0;
    const second = await backfill();
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(served.filter((request) => request.path.startsWith('/report-downloads/'))).toHaveLength(3);
    expect(await select(USAGE_SQL)).toEqual(usageBefore);
    expect(await select(COST_SQL)).toEqual(costsBefore);

    const reconcile = await runCli(['report', '--reconcile', '--json', '--config', config], { cwd: workdir, env });
    expect(reconcile.code, reconcile.stderr).toBe(0);
    // Billed 14th: 0.8 + 0.18 + 2 = 2.98; the 15th: $0, so there is no gap in percent to show.
    // Copilot's usage rows carry the same net dollars (cost_source 'provider'), so computed equals billed.
    expect(JSON.parse(reconcile.stdout)).toEqual([
      { day: '2026-09-14T00:00:00.000Z', sourceSystem: 'copilot', provider: 'github', billedUsd: '2.98', computedUsd: '2.98', gapPercent: '0.00', unpricedRows: 0 },
      { day: '2026-09-15T00:00:00.000Z', sourceSystem: 'copilot', provider: 'github', billedUsd: '0', computedUsd: '0', gapPercent: null, unpricedRows: 0 },
    ]);
    const table = await runCli(['report', '--reconcile', '--config', config], { cwd: workdir, env });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/2026-09-14\s+copilot\s+github\s+\$2\.98\s+\$2\.98\s+0\.00%/);
    expect(table.stdout).toMatch(/2026-09-15\s+copilot\s+github\s+\$0\.00\s+\$0\.00\s+–/);

    // Neither the token nor a link's signature reaches output or database.
    for (const result of [first, second, reconcile, table]) {
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
      expect(result.stdout + result.stderr).not.toContain(SIGNATURE);
    }
    const stored = await databaseText();
    expect(stored).toContain('octo-org'); // the dump is not empty
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain(SIGNATURE);
  }, 120_000);

  it('a refused signed link fails the source naming the day and file, never the link, and writes nothing', async () => {
    const { backfill } = await setup();
    refuseDownloads = true;
    const result = await backfill();
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/copilot\s+copilot\s+error/);
    expect(result.stdout + result.stderr).toContain('Copilot usage-metrics report for 2026-09-14, file 1 of 2');
    expect(result.stdout + result.stderr).not.toContain(SIGNATURE);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expect(served.filter((request) => request.path.startsWith('/report-downloads/')).map((request) => request.authorization)).toEqual([undefined]);

    expect(await select(`SELECT COUNT(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 0 }]);
    expect(await select(`SELECT COUNT(*)::int AS n FROM utt_schema.provider_cost`)).toEqual([{ n: 0 }]);
    const [status] = await select(`SELECT status, last_error FROM utt_schema.watchdog_status WHERE source = 'copilot'`);
    expect(status?.status).toBe('error');
    expect(String(status?.last_error)).toContain('Copilot usage-metrics report for 2026-09-14, file 1 of 2');
    const stored = await databaseText();
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain(SIGNATURE);
  });
});

function numeric(item: Record<string, unknown>, column: string): Record<string, unknown> {
  const value = item[column];
  if (typeof value !== 'string' || !value.includes('.')) return {};
  return { [column]: value.replace(/0+$/, '').replace(/\.$/, '') };
}
