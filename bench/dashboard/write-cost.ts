/**
 * What the roll-up triggers cost a writer. The same statements — an INSERT of
 * N distinct hourly gateway rows (bench/import's `distinct` shape: every row
 * its own cell), then an UPDATE that revises every one of them (a replay with
 * new numbers) and a DELETE of them all — are timed on token_usage with:
 *
 *   none     no roll-up trigger (the yardstick)
 *   daily    token_usage_daily only (migrations 0005 + 0009's new columns)
 *   + detail token_usage_daily_detail in UTC too (0009, what every store keeps)
 *   + zone   and a second time zone kept (`utt serve` in Europe/Berlin)
 *
 * Two shapes (--shape): `gateway`, 571 API keys each with a fixed user,
 * account, model and project, every hour (a key's 24 hours make one roll-up
 * row a day); `distinct`, every row a different user/key combination each
 * hour, so the roll-ups are as large as the rows (bench/import's worst case).
 *
 *   UTT_BENCH_DATABASE_URL=postgres://… pnpm --filter @utt/bench exec tsx dashboard/write-cost.ts [--rows 100000] [--runs 3] [--shape gateway|distinct]
 *
 * It works in its own schema (utt_bench_write_cost), dropped at the end.
 */
import { parseArgs } from 'node:util';
import { openStore } from '@utt/postgres';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    rows: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    shape: { type: 'string', default: 'gateway' },
  },
});
const url = flags.url ?? process.env.UTT_BENCH_DATABASE_URL ?? process.env.UTT_TEST_DATABASE_URL;
if (!url) {
  console.error('set UTT_BENCH_DATABASE_URL (or pass --url) to a PostgreSQL database the benchmark may create a schema in');
  process.exit(1);
}
const rowCount = Number(flags.rows);
const runs = Number(flags.runs);
const schema = 'utt_bench_write_cost';
const t = `"${schema}"`;

const store = await openStore({ url, schema });
const DAILY = ['token_usage_daily_insert', 'token_usage_daily_update', 'token_usage_daily_delete'];
const DETAIL = ['token_usage_daily_detail_insert', 'token_usage_daily_detail_update', 'token_usage_daily_detail_delete'];

// Since migration 0012 one INSERT trigger, token_usage_daily_detail_insert, keeps all three roll-ups
// (token_usage_daily_insert is gone): the 'daily' setup's inserts then run no roll-up trigger.
const existing = new Set(
  (await store.client.query<{ name: string }>(`SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1::regclass`, [`${t}.token_usage`])).map((row) => row.name),
);

async function setTriggers(enabled: readonly string[]): Promise<void> {
  for (const name of [...DAILY, ...DETAIL].filter((trigger) => existing.has(trigger))) {
    await store.client.exec(`ALTER TABLE ${t}.token_usage ${enabled.includes(name) ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`);
  }
}

if (flags.shape !== 'gateway' && flags.shape !== 'distinct') throw new Error('--shape must be gateway or distinct');
// Every row its own hourly cell; `c` is the combination: the key's (gateway) or a new one each row (distinct).
const combination = flags.shape === 'gateway' ? 'n % 571' : 'n';
const insert = `INSERT INTO ${t}.token_usage (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
    input_tokens, output_tokens, cached_read_tokens, requests, cost_usd, cost_source, measurement_basis, price_ref)
  SELECT 'litellm', '', 'hour', timestamptz '2026-01-01' + (n / 571) * interval '1 hour',
         (ARRAY['openai','anthropic','google','mistral'])[1 + c % 4], 'model-' || (c % 8), 'team-' || (c % 12), 'key-' || c, 'user-' || (c % 4000),
         CASE WHEN c % 5 = 0 THEN '{"project":"p1"}'::jsonb ELSE '{}'::jsonb END,
         1000 + n % 5000, 100 + n % 800, n % 3000, 1 + n % 7, round((n % 1000) / 1e5, 10), 'computed', 'exact', 'genai-prices@bench'
  FROM generate_series(0, ${rowCount} - 1) AS n CROSS JOIN LATERAL (SELECT ${combination} AS c) AS combination`;
const update = `UPDATE ${t}.token_usage SET input_tokens = input_tokens + 1, cost_usd = cost_usd + 0.0000001, updated_at = now()`;
const remove = `DELETE FROM ${t}.token_usage`;

async function timed(sql: string): Promise<number> {
  const began = performance.now();
  await store.client.exec(sql);
  return performance.now() - began;
}

const setups: [string, string[]][] = [
  ['none (yardstick)', []],
  ['daily', DAILY],
  ['daily + detail (UTC)', [...DAILY, ...DETAIL]],
  ['daily + detail, 2 zones', [...DAILY, ...DETAIL]],
];
await store.client.exec(`TRUNCATE ${t}.token_usage`);
await store.client.exec(`DELETE FROM ${t}.token_usage_rollup_zones WHERE time_zone <> 'UTC'`);
const results: { label: string; insert: number; update: number; remove: number }[] = [];
for (const [label, triggers] of setups) {
  if (label.includes('2 zones')) await store.addRollupTimeZone('Europe/Berlin');
  await setTriggers(triggers);
  const samples = { insert: [] as number[], update: [] as number[], remove: [] as number[] };
  for (let run = 0; run < runs; run++) {
    samples.insert.push(await timed(insert));
    samples.update.push(await timed(update));
    samples.remove.push(await timed(remove));
    await store.client.exec(`VACUUM ${t}.token_usage`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  results.push({ label, insert: median(samples.insert), update: median(samples.update), remove: median(samples.remove) });
  const base = results[0] ?? results[results.length - 1]!;
  const last = results[results.length - 1]!;
  console.log(
    `${label.padEnd(26)} insert ${last.insert.toFixed(0).padStart(6)} ms (${(last.insert / base.insert).toFixed(2)}×)  update ${last.update.toFixed(0).padStart(6)} ms (${(last.update / base.update).toFixed(2)}×)  delete ${last.remove.toFixed(0).padStart(6)} ms (${(last.remove / base.remove).toFixed(2)}×)`,
  );
}
console.log(`\n${rowCount.toLocaleString('en')} hourly rows (${flags.shape} shape) per statement, median of ${runs}; ratios against no roll-up trigger`);
await store.client.exec(`DROP SCHEMA ${t} CASCADE`);
await store.close();
