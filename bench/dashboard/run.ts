/**
 * Page-time benchmark for @utt/dashboard over a year of hourly data (≥ 5 M
 * token_usage rows) on PostgreSQL. Each page is answered in process by the
 * same handler `utt serve` mounts (server time: store queries plus rendering,
 * no network), several times after a warm-up, and reported as median and
 * worst time and as a ratio to a yardstick run in the same script: one bare
 * aggregate over the 30 days a default page shows, the least any page over
 * that range has to read.
 *
 *   UTT_BENCH_DATABASE_URL=postgres://… pnpm --filter @utt/bench exec tsx dashboard/run.ts [--combos 571] [--runs 5] [--reload]
 *
 * The generated rows stay in the schema utt_bench_dashboard between runs
 * (--reload rebuilds them); drop it with DROP SCHEMA utt_bench_dashboard CASCADE.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createDashboardHandler } from '@utt/dashboard';
import { openStore } from '@utt/postgres';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    combos: { type: 'string', default: '571' },
    runs: { type: 'string', default: '5' },
    reload: { type: 'boolean', default: false },
    schema: { type: 'string', default: 'utt_bench_dashboard' },
    'time-zone': { type: 'string', default: 'UTC' },
  },
});
const url = flags.url ?? process.env.UTT_BENCH_DATABASE_URL ?? process.env.UTT_TEST_DATABASE_URL;
if (!url) {
  console.error('set UTT_BENCH_DATABASE_URL (or pass --url) to a PostgreSQL database the benchmark may create a schema in');
  process.exit(1);
}
const combos = Number(flags.combos);
const runs = Number(flags.runs);
const schema = flags.schema;
const DAY_MS = 86_400_000;
const TARGET_MS = 300;

const end = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
const start = new Date(end.getTime() - 365 * DAY_MS);
const now = new Date(end.getTime() - 60_000);

const store = await openStore({ url, schema });
const t = `"${schema}"`;
await store.client.exec(`CREATE TABLE IF NOT EXISTS ${t}.bench_meta (end_at timestamptz NOT NULL, combos int NOT NULL)`);
const [meta] = await store.client.query<{ end_at: Date; combos: number }>(`SELECT end_at, combos FROM ${t}.bench_meta`);
if (flags.reload || !meta || meta.end_at.getTime() !== end.getTime() || meta.combos !== combos) {
  await load();
} else {
  console.log(`reusing ${schema}: a year of hourly rows ending ${end.toISOString()} (--reload rebuilds)`);
}
const [{ rows: rowCount, size } = { rows: 0, size: '' }] = await store.client.query<{ rows: number; size: string }>(
  `SELECT (SELECT count(*) FROM ${t}.token_usage) AS rows, pg_size_pretty(pg_total_relation_size('${t}.token_usage')) AS size`,
);
const [{ server_version: version } = { server_version: '' }] = await store.client.query<{ server_version: string }>('SHOW server_version');
console.log(`token_usage: ${Number(rowCount).toLocaleString('en')} rows (${size}), PostgreSQL ${version}, ${start.toISOString().slice(0, 10)} to ${end.toISOString().slice(0, 10)}`);

async function load(): Promise<void> {
  console.log(`loading a year of hourly rows for ${combos} key/user/model combinations…`);
  const began = Date.now();
  await store.client.exec(`TRUNCATE ${t}.token_usage, ${t}.provider_cost, ${t}.watchdog_status, ${t}.rollup_watermark, ${t}.bench_meta`);
  const models = `(ARRAY['gpt-5','gpt-5-mini','claude-sonnet-4-5','claude-haiku-4-5','gemini-2.5-pro','gemini-2.5-flash','mistral-large','local-llama'])`;
  const providers = `(ARRAY['openai','openai','anthropic','anthropic','google','google','mistral','ollama'])`;
  // Month by month, so each statement stays a moderate transaction.
  for (let month = 0; month < 12; month += 1) {
    const from = new Date(start.getTime() + Math.floor((month * 365) / 12) * DAY_MS);
    const to = new Date(start.getTime() + Math.floor(((month + 1) * 365) / 12) * DAY_MS);
    await store.client.query(
      `INSERT INTO ${t}.token_usage (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
         input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
         cost_usd, cost_source, measurement_basis, price_ref, unpriced_reason)
       SELECT 'litellm', '', 'hour', h, ${providers}[1 + c % 8], ${models}[1 + c % 8], 'team-' || (c % 12), 'key-' || lpad(c::text, 4, '0'), 'user-' || (c % 40), '{}'::jsonb,
              v.input, v.output, v.cached, CASE WHEN c % 8 IN (2, 3) THEN v.cached / 10 END, CASE WHEN c % 8 IN (2, 3) THEN 0 END,
              CASE WHEN c % 8 IN (0, 4) THEN v.output / 5 END, 1 + v.input / 2000,
              CASE WHEN c % 8 = 7 THEN NULL ELSE round((v.input * 1.25 + v.output * 10 + v.cached * 0.125) / 1e6, 10) END,
              CASE WHEN c % 8 = 7 THEN NULL ELSE 'computed' END, 'exact',
              CASE WHEN c % 8 = 7 THEN NULL ELSE 'genai-prices@bench' END,
              CASE WHEN c % 8 = 7 THEN 'no price for ollama/local-llama' END
       FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h
       CROSS JOIN generate_series(0, $3::int - 1) AS c
       CROSS JOIN LATERAL (SELECT 1000 + ((c * 7919 + (extract(epoch FROM h)::bigint / 3600) * 31) % 50000) AS input,
                                  100 + ((c * 104729 + (extract(epoch FROM h)::bigint / 3600) * 17) % 8000) AS output,
                                  ((c * 31 + (extract(epoch FROM h)::bigint / 3600) * 7) % 30000) AS cached) AS v`,
      [from, to, combos],
    );
    process.stdout.write(`  month ${month + 1}/12 (${Math.round((Date.now() - began) / 1000)} s)\n`);
  }
  // Coding agents on three machines, covered by a plan, and the plan's fee.
  await store.client.query(
    `INSERT INTO ${t}.token_usage (source_system, source_instance, granularity, bucket_start, provider, model, labels,
       input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, requests, cost_usd, cost_source, measurement_basis)
     SELECT 'claude_code', 'dev-' || m || '@host', 'hour', h, 'anthropic', 'claude-sonnet-4-5',
            jsonb_build_object('billing', 'subscription', 'project', 'project-' || (m * 3 + extract(hour FROM h)::int % 3)),
            2000, 800, 50000, 3000, 0, 12, 0.0339, 'computed', 'exact'
     FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h
     CROSS JOIN generate_series(0, 2) AS m
     WHERE extract(hour FROM h) BETWEEN 8 AND 18`,
    [start, end],
  );
  await store.client.query(
    `INSERT INTO ${t}.token_usage (source_system, granularity, bucket_start, provider, model, account, labels, cost_usd, cost_source, measurement_basis)
     SELECT 'subscription', 'month', m, 'anthropic', '', 'platform', '{"subscription":"team-claude"}'::jsonb, 300, 'fixed', 'derived_estimate'
     FROM generate_series(date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', $2::timestamptz, interval '1 month') AS m
     WHERE m >= $1::timestamptz AND m < $2::timestamptz`,
    [start, end],
  );
  await store.client.query(
    `INSERT INTO ${t}.provider_cost (source_system, source_instance, bucket_start, provider, account, model, line_item, amount_usd, currency)
     SELECT 'litellm', '', date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', provider, '', '', 'usage', round(SUM(cost_usd) * 1.01, 6), 'USD'
     FROM ${t}.token_usage WHERE source_system = 'litellm' AND cost_usd IS NOT NULL GROUP BY 3, 4`,
  );
  for (const [source, system] of [
    ['gateway', 'litellm'],
    ['claude-code', 'claude_code'],
    ['subscriptions', 'subscription'],
  ] as const) {
    await store.writeSourceWindow({ source, sourceSystem: system, rows: [], status: { status: 'ok', rowsWritten: 1 }, watermark: { at: end, granularity: 'hour' }, now });
  }
  await store.recordSourceStatus({ source: 'openai', sourceSystem: 'openai_usage', status: 'error', error: 'HTTP 503 from the usage API', now });
  await store.heartbeat(now);
  await store.client.query(`INSERT INTO ${t}.bench_meta (end_at, combos) VALUES ($1, $2)`, [end, combos]);
  await store.client.exec(`VACUUM ANALYZE ${t}.token_usage, ${t}.token_usage_daily, ${t}.token_usage_daily_detail, ${t}.token_usage_daily_by_user`);
  console.log(`loaded in ${Math.round((Date.now() - began) / 1000)} s`);
}

async function time(fn: () => Promise<unknown>): Promise<{ median: number; worst: number }> {
  await fn();
  const samples: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const began = performance.now();
    await fn();
    samples.push(performance.now() - began);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)] ?? 0, worst: samples[samples.length - 1] ?? 0 };
}

const timeZone = flags['time-zone'];
if (timeZone !== 'UTC') {
  // What `utt serve` does on start in a non-UTC reporting zone: once per zone.
  const began = performance.now();
  const { added } = await store.addRollupTimeZone(timeZone);
  console.log(added ? `kept ${timeZone} days in the roll-up (backfilled in ${((performance.now() - began) / 1000).toFixed(1)} s)` : `the roll-up already keeps ${timeZone} days`);
}
const [rollups] = await store.client.query<{ daily: number; detail: number; zones: string }>(
  `SELECT (SELECT count(*) FROM ${t}.token_usage_daily) AS daily, (SELECT count(*) FROM ${t}.token_usage_daily_detail) AS detail,
          (SELECT string_agg(time_zone, ', ') FROM ${t}.token_usage_rollup_zones) AS zones`,
);
console.log(`roll-ups: token_usage_daily ${Number(rollups?.daily).toLocaleString('en')} rows; token_usage_daily_detail ${Number(rollups?.detail).toLocaleString('en')} rows (zones: ${rollups?.zones})`);
const loadBefore = loadavg();
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadBefore.map((value) => value.toFixed(1)).join(' ')}; reporting time zone ${timeZone}`);
const handler = createDashboardHandler({ store, now: () => now, timeZone });
const day = (offset: number) => new Date(end.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
const yardstick = await time(() =>
  store.client.query(`SELECT count(*), sum(cost_usd) FROM ${t}.token_usage WHERE bucket_start >= $1 AND bucket_start < $2`, [
    new Date(end.getTime() - 30 * DAY_MS),
    end,
  ]),
);
console.log(`yardstick: one aggregate over the last 30 days of token_usage: median ${yardstick.median.toFixed(0)} ms`);
const report = await time(() => store.report({ period: 'day', by: 'model', since: new Date(end.getTime() - 30 * DAY_MS), until: end }));
console.log(`utt report --period day --by model (last 30 days, store.report): median ${report.median.toFixed(0)} ms\n`);

const targets = [
  ['Overview (default: last 30 days)', '/'],
  ['Sources', '/sources'],
  ['Spend & tokens by model (30 days)', '/usage?by=model'],
  ['Spend & tokens by API key (30 days)', '/usage?by=api_key'],
  ['Spend & tokens by user (whole year)', `/usage?by=user&from=${day(-365)}&to=${day(-1)}`],
  ['Reconciliation (30 days)', '/reconciliation'],
  ['Coding agents (30 days)', '/agents'],
  ['Data quality (30 days)', '/quality'],
  ['CSV export: usage by model (30 days)', '/usage?by=model&format=csv'],
  ['API: spend series by provider (90 days)', `/api/v1/spend-series?by=provider&from=${day(-90)}`],
  ['API: freshness', '/api/v1/freshness'],
] as const;
const lines: string[] = [];
let over = 0;
for (const [label, path] of targets) {
  const measured = await time(async () => {
    const response = await handler(new Request(`http://127.0.0.1${path}`, { headers: { host: '127.0.0.1' } }));
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    await response.text();
  });
  if (measured.median > TARGET_MS) over += 1;
  lines.push(
    `${label.padEnd(42)} median ${measured.median.toFixed(0).padStart(6)} ms  worst ${measured.worst.toFixed(0).padStart(6)} ms  ${(measured.median / TARGET_MS).toFixed(2).padStart(5)}× target  ${(measured.median / yardstick.median).toFixed(2).padStart(5)}× yardstick  ${measured.median <= TARGET_MS ? 'within' : 'OVER'} ${TARGET_MS} ms`,
  );
  console.log(lines.at(-1));
}
console.log(`\n${targets.length - over} of ${targets.length} pages within ${TARGET_MS} ms of server time (median of ${runs} runs after a warm-up)`);
console.log(`load average ${loadBefore.map((value) => value.toFixed(1)).join(' ')} before the pages, ${loadavg().map((value) => value.toFixed(1)).join(' ')} after: a shared machine inflates every time`);
await store.close();
