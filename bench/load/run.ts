/**
 * What one PostgreSQL holds: several writer processes at once, each a
 * different source_system, each writing windows of hourly rows through
 * UsageStore.writeSourceWindow (rows, watermark and status in one transaction)
 * for a fixed time, then a check that nothing was lost: the table holds
 * exactly the cells the writers committed, with their numbers, and the daily
 * roll-up equals the raw rows. Bounded: it stops by itself.
 *
 *   pnpm --filter @utt/bench exec tsx load/run.ts --url postgres://…/db [--writers 4] [--seconds 20] [--cells 200]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toUsageRow, type UsageRow } from '@utt/core';
import { openStore } from '@utt/postgres';
import { fmt, machine } from '../shared/measure';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.UTT_BENCH_DATABASE_URL },
    writers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    cells: { type: 'string', default: '200' },
    writer: { type: 'string' },
  },
});
if (!flags.url) throw new Error('pass --url postgres://… (or UTT_BENCH_DATABASE_URL)');
const schema = 'bench_load';
const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
type WriterReport = { writer: number; windows: number; rows: number; inputTokens: number; deadlocks: number; failures: number; seconds: number };

if (flags.writer !== undefined) {
  // One writer process: windows of 24 hours × `cells` cells an hour, one after another.
  const writer = Number(flags.writer);
  const cells = Number(flags.cells);
  const sourceSystem = `load_${writer}`;
  const store = await openStore({ url: flags.url, schema, migrate: false });
  const deadline = performance.now() + Number(flags.seconds) * 1000;
  const report: WriterReport = { writer, windows: 0, rows: 0, inputTokens: 0, deadlocks: 0, failures: 0, seconds: 0 };
  const started = performance.now();
  while (performance.now() < deadline) {
    const windowStart = START + report.windows * 24 * HOUR;
    const rows: UsageRow[] = [];
    let tokens = 0;
    for (let hour = 0; hour < 24; hour++) {
      for (let cell = 0; cell < cells; cell++) {
        const input = 1 + ((report.windows * 31 + hour * 7 + cell) % 10_000);
        tokens += input;
        rows.push(
          toUsageRow(
            { granularity: 'hour', bucket_start: new Date(windowStart + hour * HOUR), provider: 'openai', model: `m${cell % 8}`, user_id: `u${cell}`, input_tokens: input, output_tokens: 1, requests: 1, measurement_basis: 'exact' },
            { sourceSystem, defaultInstance: '', where: 'load' },
          ),
        );
      }
    }
    try {
      await store.writeSourceWindow({ source: sourceSystem, sourceSystem, rows, watermark: { at: new Date(windowStart + 24 * HOUR), granularity: 'hour' }, status: { status: 'ok' } });
      report.windows++;
      report.rows += rows.length;
      report.inputTokens += tokens;
    } catch (error) {
      if ((error as { code?: string }).code === '40P01') report.deadlocks++;
      else report.failures++;
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  await store.close();
  process.send?.(report);
  process.exit(0);
}

const writers = Number(flags.writers);
const setup = await openStore({ url: flags.url, schema, migrate: false });
await setup.client.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await setup.migrate();
console.log(`machine: ${machine()}`);
console.log(`${writers} writer processes × ${flags.seconds} s, windows of 24 h × ${flags.cells} cells (${24 * Number(flags.cells)} rows a transaction), each writer its own source_system`);

const script = fileURLToPath(import.meta.url);
const reports = await Promise.all(
  Array.from(
    { length: writers },
    (_, writer) =>
      new Promise<WriterReport>((resolve, reject) => {
        const child = fork(script, ['--url', flags.url as string, '--writer', String(writer), '--seconds', flags.seconds as string, '--cells', flags.cells as string], {
          execArgv: ['--import', 'tsx'],
        });
        child.on('message', (message) => resolve(message as WriterReport));
        child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`writer ${writer} exited with ${code}`))));
      }),
  ),
);

const committed = reports.reduce((sum, report) => sum + report.rows, 0);
const committedTokens = reports.reduce((sum, report) => sum + report.inputTokens, 0);
const longest = Math.max(...reports.map((report) => report.seconds));
const [stored] = await setup.client.query<{ rows: number; tokens: string; daily_rows: string; daily_tokens: string }>(
  `SELECT (SELECT count(*) FROM ${schema}.token_usage)::bigint AS rows,
          (SELECT sum(input_tokens) FROM ${schema}.token_usage)::text AS tokens,
          (SELECT sum(row_count) FROM ${schema}.token_usage_daily)::text AS daily_rows,
          (SELECT sum(input_tokens) FROM ${schema}.token_usage_daily)::text AS daily_tokens`,
);
for (const report of reports) {
  console.log(`  writer ${report.writer}: ${report.windows} transactions, ${report.rows.toLocaleString('en')} rows in ${fmt(report.seconds)} s (${fmt(report.rows / report.seconds, 0)} rows/s), ${report.deadlocks} deadlocks, ${report.failures} other failures`);
}
const lost = committed - Number(stored?.rows ?? 0);
const ok = lost === 0 && String(committedTokens) === stored?.tokens && stored?.daily_rows === String(committed) && stored?.daily_tokens === String(committedTokens);
console.log(`total: ${committed.toLocaleString('en')} rows committed in ${fmt(longest)} s = ${fmt(committed / longest, 0)} rows/s sustained by ${writers} processes`);
console.log(`check: table holds ${Number(stored?.rows).toLocaleString('en')} rows (${lost} lost), input tokens ${stored?.tokens} vs ${committedTokens} committed; daily roll-up ${stored?.daily_rows} rows / ${stored?.daily_tokens} tokens: ${ok ? 'exact' : 'MISMATCH'}`);
console.log(`deadlocks: ${reports.reduce((sum, report) => sum + report.deadlocks, 0)}`);
await setup.client.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await setup.close();
process.exit(ok ? 0 : 1);
