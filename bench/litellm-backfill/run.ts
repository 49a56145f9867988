/**
 * Backfill benchmark for @utt/adapter-litellm-prometheus against a real
 * Prometheus: a 24-hour and a 7-day gap over 500+ series, the adapter's one
 * query_range per metric versus the naive one query per hour, run in the same
 * script against the same Prometheus. Also reports what PromQL increase()
 * would have written for the same hours (extrapolated, non-integer).
 *
 *   pnpm --filter @utt/bench exec tsx litellm-backfill/run.ts [--combos 110] [--days 7]
 */
import { parseArgs } from 'node:util';
import { litellmPrometheusAdapter } from '@utt/adapter-litellm-prometheus';
import { createHttpClient, floorToBucket, silentLogger, type UsageRecordInput, validateWithSchema } from '@utt/core';
import { DEFAULT_COMBOS, generateLitellmHistory, type HistoryCombo } from '../../packages/adapter-litellm-prometheus/src/test-helpers/litellm-history';
import { prometheusUnavailableReason, startCountingProxy, startPrometheus } from '../../packages/adapter-litellm-prometheus/src/test-helpers/prometheus-server';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const { values: flags } = parseArgs({ options: { combos: { type: 'string', default: '110' }, days: { type: 'string', default: '7' }, scrape: { type: 'string', default: '300' } } });
const comboCount = Number(flags.combos);
const days = Number(flags.days);
const scrapeSeconds = Number(flags.scrape);

const unavailable = prometheusUnavailableReason();
if (unavailable) {
  console.error(unavailable);
  process.exit(1);
}

/** Many keys and teams over the default models: each combo has 5 or 6 series (token types, requests, spend). */
function combos(count: number): HistoryCombo[] {
  return Array.from({ length: count }, (_, index) => {
    const template = DEFAULT_COMBOS[index % DEFAULT_COMBOS.length] as HistoryCombo;
    return {
      ...template,
      hashedKey: `k${String(index).padStart(4, '0')}`,
      keyAlias: index % 7 === 0 ? 'None' : `key-${index}`,
      team: `t-${index % 9}`,
      teamAlias: `team-${index % 9}`,
      user: `user-${index % 23}`,
      activeFrom: index % 10 === 0 ? 36 * 3600 : undefined,
      vanished: undefined,
    };
  });
}

const end = floorToBucket(new Date(), 'day');
const start = new Date(end.getTime() - days * DAY_MS);
const restartsAt = Array.from({ length: days }, (_, day) => day * 86_400 + 13 * 3600 + 1800);

let phase = Date.now();
const history = generateLitellmHistory({ start, hours: days * 24, scrapeIntervalSeconds: scrapeSeconds, combos: combos(comboCount), restartsAt });
console.log(
  `history: ${days} days, ${history.seriesCount} series, ${history.sampleCount.toLocaleString('en')} samples every ${scrapeSeconds}s, ${restartsAt.length} proxy restarts (generated in ${Date.now() - phase} ms)`,
);
phase = Date.now();
const prometheus = await startPrometheus({ openMetrics: history.openMetrics });
const proxy = await startCountingProxy(prometheus.url);
console.log(`prometheus: blocks created and server ready in ${Date.now() - phase} ms`);

const validated = await validateWithSchema(litellmPrometheusAdapter.configSchema, { prometheusUrl: proxy.url, scrapeInterval: `${scrapeSeconds}s` });
if (!validated.ok) throw new Error(validated.issues.join('\n'));
const context = {
  config: validated.value,
  http: createHttpClient({ deadlineMs: 120_000, retryBudgetMs: 240_000 }),
  fetch: globalThis.fetch,
  env: {},
  logger: silentLogger,
  signal: new AbortController().signal,
  now: () => new Date(),
  sourceName: 'bench',
};

async function collect(windowStart: Date, windowEnd: Date): Promise<UsageRecordInput[]> {
  const result = await litellmPrometheusAdapter.collect({ start: windowStart, end: windowEnd, granularity: 'hour' }, context);
  if (Symbol.asyncIterator in Object(result)) {
    const records: UsageRecordInput[] = [];
    for await (const batch of result as AsyncIterable<readonly UsageRecordInput[]>) for (const record of batch) records.push(record);
    return records;
  }
  return [...(result as readonly UsageRecordInput[])];
}

function totalTokens(records: readonly UsageRecordInput[]): number {
  return records.reduce((sum, record) => sum + (record.input_tokens ?? 0) + (record.output_tokens ?? 0) + (record.cached_read_tokens ?? 0), 0);
}

async function measure<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; requests: number }> {
  const before = proxy.requests.length;
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started, requests: proxy.requests.length - before };
}

/** What the common shortcut writes: sum by (…) (increase(x[1h])) at step 1h, one request per metric. */
async function increaseTotals(windowStart: Date, windowEnd: Date): Promise<{ values: number[] }> {
  const values: number[] = [];
  for (const metric of ['litellm_input_tokens_metric_total', 'litellm_output_tokens_metric_total']) {
    const url = new URL(`${proxy.url}/api/v1/query_range`);
    url.searchParams.set('query', `sum by (model, api_key_alias, hashed_api_key, team_alias, team, user) (increase(${metric}[1h]))`);
    url.searchParams.set('start', String(windowStart.getTime() / 1000 + 3600));
    url.searchParams.set('end', String(windowEnd.getTime() / 1000));
    url.searchParams.set('step', '3600s');
    const body = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
    for (const series of body.data.result) for (const [, value] of series.values) values.push(Number(value));
  }
  return { values };
}

const expectedTotal = (from: Date) =>
  history.expected.filter((row) => row.bucket_start >= from.toISOString()).reduce((sum, row) => sum + (row.input_tokens ?? 0) + (row.output_tokens ?? 0) + (row.cached_read_tokens ?? 0), 0);

const rows: string[] = [];
try {
  for (const gapHours of [24, days * 24]) {
    const windowStart = new Date(end.getTime() - gapHours * HOUR_MS);
    const batched = await measure(() => collect(windowStart, end));
    const naive = await measure(async () => {
      const records: UsageRecordInput[] = [];
      for (let hour = windowStart.getTime(); hour < end.getTime(); hour += HOUR_MS) for (const record of await collect(new Date(hour), new Date(hour + HOUR_MS))) records.push(record);
      return records;
    });
    const expected = expectedTotal(windowStart);
    const same = totalTokens(batched.result) === expected && totalTokens(naive.result) === expected && batched.result.length === naive.result.length;
    const increase = await increaseTotals(windowStart, end);
    const inputOutputExpected = history.expected
      .filter((row) => row.bucket_start >= windowStart.toISOString())
      .reduce((sum, row) => sum + (row.input_tokens ?? 0) + (row.cached_read_tokens ?? 0) + (row.output_tokens ?? 0), 0);
    const increaseSum = increase.values.reduce((sum, value) => sum + value, 0);
    const nonInteger = increase.values.filter((value) => !Number.isInteger(value)).length;
    rows.push(
      [
        `${gapHours}h gap`.padEnd(10),
        `one query per metric: ${batched.requests} requests, ${batched.ms.toFixed(0)} ms`.padEnd(44),
        `one query per hour: ${naive.requests} requests, ${naive.ms.toFixed(0)} ms`.padEnd(44),
        `ratio: ${(naive.requests / batched.requests).toFixed(0)}x fewer requests, ${(naive.ms / batched.ms).toFixed(1)}x faster`.padEnd(40),
        `records ${batched.result.length}, totals ${same ? 'equal the generator' : 'DIFFER'}`,
        `| increase(): ${nonInteger}/${increase.values.length} hourly values non-integer, input+output off by ${(increaseSum - inputOutputExpected).toFixed(0)} tokens (${(((increaseSum - inputOutputExpected) / inputOutputExpected) * 100).toFixed(2)}%)`,
      ].join(' '),
    );
  }
} finally {
  await proxy.close();
  await prometheus.stop();
}
console.log(rows.join('\n'));
