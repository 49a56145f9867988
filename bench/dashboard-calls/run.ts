// Server time of the dashboard's call-ledger pages (Calls, a deep Calls page,
// Tags, Data quality, /api/v1/calls) over a large tracked_call table on
// PostgreSQL, as ratios to a yardstick measured in the same process.
//
//   UTT_BENCH_DATABASE_URL=postgres://… pnpm --filter @utt/bench exec tsx dashboard-calls/run.ts [--calls N] [--runs N] [--reload]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createDashboardHandler } from '@utt/dashboard';
import { openStore } from '@utt/postgres';

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    reload: { type: 'boolean', default: false },
    schema: { type: 'string', default: 'utt_bench_calls' },
  },
});
const url = process.env.UTT_BENCH_DATABASE_URL;
if (!url) {
  console.error('set UTT_BENCH_DATABASE_URL to a PostgreSQL database the bench may fill (schema utt_bench_calls)');
  process.exit(2);
}
const callCount = Number(flags.calls);
const runs = Number(flags.runs);
const schema = flags.schema as string;
const DAYS = 90;
const now = new Date();

const store = await openStore({ url, schema });
const [{ n } = { n: 0 }] = await store.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".tracked_call`);
if (flags.reload || n !== callCount) {
  console.log(`loading ${callCount.toLocaleString('en-US')} tracked calls over ${DAYS} days…`);
  await store.client.exec(`TRUNCATE "${schema}".tracked_call`);
  // Synthetic rows straight into the ledger table (the writer's per-cell recompute is not what is measured here):
  // three applications, four models, two tag keys, 3 % untagged, 1 % cut streams, evenly over the last 90 days.
  const started = performance.now();
  const batch = 200_000;
  for (let offset = 0; offset < callCount; offset += batch) {
    await store.client.query(
      `INSERT INTO "${schema}".tracked_call (event_id, source_system, source_instance, occurred_at, bucket_start, provider, model, operation,
         tags, input_tokens, output_tokens, cached_read_tokens, latency_ms, streaming, usage_origin, cost_usd, price_ref)
       SELECT gen_random_uuid(), (ARRAY['support-bot','billing-api','research-agent'])[1 + i % 3], 'host-' || (i % 4),
              t, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
              (ARRAY['openai','anthropic','openai','google'])[1 + i % 4], (ARRAY['gpt-4o-mini','claude-sonnet-4-5','gpt-5','gemini-2.5-flash'])[1 + i % 4], 'chat',
              CASE WHEN i % 33 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('tenant', 'tenant-' || (i % 50), 'feature', (ARRAY['chat','search','summarise'])[1 + i % 3]) END,
              CASE WHEN i % 100 = 7 THEN NULL ELSE 500 + i % 2000 END, CASE WHEN i % 100 = 7 THEN NULL ELSE 50 + i % 400 END, NULL,
              CASE WHEN i % 100 = 7 THEN NULL ELSE 300 + i % 3000 END, i % 5 = 0,
              CASE WHEN i % 100 = 7 THEN 'unknown' ELSE 'response' END,
              CASE WHEN i % 100 = 7 THEN NULL ELSE ((500 + i % 2000) * 0.000001 + (50 + i % 400) * 0.000004)::numeric END,
              CASE WHEN i % 100 = 7 THEN NULL ELSE 'bench' END
       FROM (SELECT i, $3::timestamptz - (i::double precision / $2 * $4 * interval '1 day') AS t FROM generate_series($1::bigint, $1::bigint + $5 - 1) AS i) AS g`,
      [offset, callCount, now.toISOString(), DAYS, Math.min(batch, callCount - offset)],
    );
  }
  await store.client.exec(`ANALYZE "${schema}".tracked_call`);
  console.log(`loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const handler = createDashboardHandler({ store, now: () => now });
const get = async (path: string) => {
  const response = await handler(new Request(`http://127.0.0.1${path}`, { headers: { host: '127.0.0.1' } }));
  if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
  return response.text();
};
const time = async (run: () => Promise<unknown>) => {
  await run();
  const samples: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)] as number, worst: samples[samples.length - 1] as number };
};

// Yardstick: one bare count over the 30 days a default page covers, the least any summary of them must read.
const since = new Date(now.getTime() - 30 * 86_400_000);
const yardstick = await time(() => store.client.query(`SELECT count(*) FROM "${schema}".tracked_call WHERE bucket_start >= $1`, [since]));

// A page 20 deep: follow "Older calls" twenty times, then time that page.
let deep = '/calls?limit=50';
for (let page = 0; page < 20; page += 1) {
  const html = await get(deep);
  const next = /href="([^"]*before=[^"]*)" rel="next"/.exec(html)?.[1];
  if (!next) break;
  deep = next.replaceAll('&amp;', '&');
}
const cases: [string, string][] = [
  ['Calls, first page', '/calls'],
  ['Calls, 21st page', deep],
  ['Calls, tag filter', '/calls?tag=tenant%3Dtenant-7&tag=feature%3Dsearch'],
  ['Calls, incomplete streams', '/calls?origin=unknown'],
  ['Tags', '/tags'],
  ['Tags by tenant', '/tags?key=tenant'],
  ['Data quality', '/quality'],
  ['/api/v1/calls', '/api/v1/calls?limit=200'],
];
console.log(`\n${callCount.toLocaleString('en-US')} tracked calls over ${DAYS} days; ${runs} runs after one warm-up`);
console.log(`yardstick (count of 30 days): median ${yardstick.median.toFixed(1)} ms`);
console.log('page                        median ms   worst ms   ratio to yardstick');
for (const [name, path] of cases) {
  const result = await time(() => get(path));
  console.log(`${name.padEnd(28)}${result.median.toFixed(1).padStart(9)}${result.worst.toFixed(1).padStart(11)}${(result.median / yardstick.median).toFixed(2).padStart(12)}`);
}
await store.close();
