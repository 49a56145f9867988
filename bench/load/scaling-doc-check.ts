/**
 * Runs the SQL of docs/scaling.md literally (through psql, as a reader would
 * paste it) on a scratch database and checks that the store is still exact
 * afterwards: the fenced ```sql blocks that follow a
 * `<!-- scaling-doc-check: NAME -->` line, in the order partition, retention.
 *
 * Schema `utt` (the doc's) gets rows of January and February 2026 from two
 * sources, hourly and month rows, with America/New_York kept as a roll-up zone
 * besides UTC (its local days of 31 December and 31 January straddle two
 * monthly partitions); then the doc's partition migration, the doc's
 * retention of January, and more writes through the store afterwards (a
 * replay of February with changed numbers, new March hours, a ghost row
 * deleted). Schema `utt_expected` gets the same writes without January and
 * no partitioning. token_usage and the three roll-ups must then be equal
 * (every column but id, created_at, updated_at).
 *
 *   pnpm --filter @utt/bench exec tsx load/scaling-doc-check.ts --url postgres://…/scratch_db
 *
 * The database must be a scratch one: the script drops and recreates the
 * schemas `utt` and `utt_expected` in it, and drops them at the end.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toUsageRow, type UsageRow } from '@utt/core';
import { openStore, type UsageStore } from '@utt/postgres';

const { values: flags } = parseArgs({ options: { url: { type: 'string' }, keep: { type: 'boolean', default: false } } });
if (!flags.url) throw new Error('pass --url postgres://…/a_scratch_database');
const url = flags.url;
const HOUR = 3_600_000;
const JAN = Date.UTC(2026, 0, 1);
const FEB = Date.UTC(2026, 1, 1);
const MAR = Date.UTC(2026, 2, 1);
const doc = readFileSync(fileURLToPath(new URL('../../docs/scaling.md', import.meta.url)), 'utf8');

function docBlock(name: string): string {
  const marker = `<!-- scaling-doc-check: ${name} -->`;
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/scaling.md has no ${marker}`);
  const open = doc.indexOf('```sql\n', at);
  const close = doc.indexOf('\n```', open + 7);
  return doc.slice(open + 7, close + 1);
}

function psql(sql: string): string {
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', '-'], {
    input: sql,
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
}

function row(sourceSystem: string, at: number, model: string, user: string, input: number, granularity: 'hour' | 'month' = 'hour'): UsageRow {
  return toUsageRow(
    granularity === 'hour'
      ? {
          granularity, bucket_start: new Date(at), provider: 'openai', model, user_id: user, input_tokens: input, output_tokens: input % 7, requests: 1, measurement_basis: 'exact', labels: { project: `p${input % 3}` },
          // Priced by a source version per month, so that dropping January empties its price_ref's counts (0018).
          ...(input % 5 === 0 ? {} : { cost_usd: String(input / 1000), cost_source: 'computed' as const, price_ref: `doc-prices@${new Date(at).getUTCMonth() + 1}:openai/${model}` }),
        }
      : { granularity, bucket_start: new Date(at), provider: 'openai', model, cost_usd: '20', cost_source: 'fixed', measurement_basis: 'exact' },
    { sourceSystem, defaultInstance: '', where: 'scaling-doc-check' },
  );
}

/** Hourly rows every 5 hours over [from, to) for two sources, and a month row per source and month. */
function rowsBetween(sourceSystem: string, from: number, to: number, bump = 0): UsageRow[] {
  const rows: UsageRow[] = [];
  // On one grid of every 5th hour from 1 January, whatever `from` is, so both schemas get the same February rows.
  for (let at = JAN + Math.ceil((from - JAN) / (5 * HOUR)) * 5 * HOUR; at < to; at += 5 * HOUR) {
    for (let cell = 0; cell < 3; cell++) rows.push(row(sourceSystem, at, `m${cell}`, `u${(at / HOUR + cell) % 4}`, 10 + ((at / HOUR) % 97) + cell + bump));
  }
  for (let month = new Date(from); month.getTime() < to; month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))) {
    if (month.getUTCDate() === 1 && month.getUTCHours() === 0) rows.push(row(sourceSystem, month.getTime(), 'plan', '', 0, 'month'));
  }
  return rows;
}


async function writeBefore(store: UsageStore, withJanuary: boolean): Promise<void> {
  await store.addRollupTimeZone('America/New_York');
  for (const system of ['doc_a', 'doc_b']) {
    const rows = rowsBetween(system, withJanuary ? JAN : FEB, MAR);
    await store.writeSourceWindow({ source: system, sourceSystem: system, rows });
  }
}

async function writeAfter(store: UsageStore): Promise<void> {
  // A replay of the last week of February with changed numbers (the UPDATE half of the upsert)…
  await store.writeSourceWindow({ source: 'doc_a', sourceSystem: 'doc_a', rows: rowsBetween('doc_a', MAR - 7 * 24 * HOUR, MAR, 1) });
  // …new hours in March, and a re-collected window of doc_b that lost one cell (a ghost row deleted).
  await store.writeSourceWindow({ source: 'doc_a', sourceSystem: 'doc_a', rows: rowsBetween('doc_a', MAR, MAR + 3 * 24 * HOUR) });
  const window = rowsBetween('doc_b', MAR - 2 * 24 * HOUR, MAR).filter((candidate, index) => index !== 4);
  await store.writeSourceWindow({
    source: 'doc_b',
    sourceSystem: 'doc_b',
    rows: window,
    replace: { start: new Date(MAR - 2 * 24 * HOUR), end: new Date(MAR), granularity: 'hour', sourceInstances: [''] },
  });
}

const fingerprint = (schema: string) => `
  SELECT 'token_usage', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (
    SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
           input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
           cost_usd, cost_source, price_ref, measurement_basis FROM ${schema}.token_usage) AS t
  UNION ALL SELECT 'token_usage_daily', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${schema}.token_usage_daily AS t
  UNION ALL SELECT 'token_usage_daily_detail', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${schema}.token_usage_daily_detail AS t
  UNION ALL SELECT 'token_usage_daily_by_user', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${schema}.token_usage_daily_by_user AS t
  UNION ALL SELECT 'token_usage_price_ref_rows', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${schema}.token_usage_price_ref_rows AS t`;

psql('DROP SCHEMA IF EXISTS utt CASCADE; DROP SCHEMA IF EXISTS utt_expected CASCADE;');
const store = await openStore({ url, schema: 'utt' });
const expected = await openStore({ url, schema: 'utt_expected' });
let ok = false;
try {
  await writeBefore(store, true);
  await writeBefore(expected, false);
  const straddling = psql(`SELECT count(*) FROM utt.token_usage_daily_detail WHERE time_zone = 'America/New_York' AND day IN ('2025-12-31', '2026-01-31');`);
  console.log(`before: America/New_York detail rows on 2025-12-31 and 2026-01-31 (days straddling two months): ${straddling.trim()}`);

  console.log('running the partition block of docs/scaling.md');
  psql(docBlock('partition'));
  console.log(psql("SELECT 'partitions: ' || string_agg(inhrelid::regclass::text, ', ' ORDER BY inhrelid::regclass::text) FROM pg_inherits WHERE inhparent = 'utt.token_usage'::regclass;").trim());
  console.log('running the retention block of docs/scaling.md (drops January 2026)');
  psql(docBlock('retention'));

  await writeAfter(store);
  await writeAfter(expected);
  const ours = psql(fingerprint('utt'));
  const theirs = psql(fingerprint('utt_expected'));
  console.log(`partitioned, January dropped:\n${ours}written without January, not partitioned:\n${theirs}`);
  ok = ours === theirs;
  console.log(ok ? 'equal: the recipe keeps token_usage, the three roll-ups and the count per price_ref exact' : 'MISMATCH');
} finally {
  await store.close();
  await expected.close();
  if (!flags.keep) psql('DROP SCHEMA IF EXISTS utt CASCADE; DROP SCHEMA IF EXISTS utt_expected CASCADE;');
}
process.exit(ok ? 0 : 1);
