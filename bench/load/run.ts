/**
 * What one PostgreSQL holds: several writer processes at once, each writing
 * windows of hourly rows through UsageStore.writeSourceWindow (rows, watermark
 * and status in one transaction) for a fixed time, as the worker does: every
 * window is the next 24 new hours *and* a replay of the last `--settle` hours
 * already written (the worker re-collects its settle window every cycle), in
 * which a third of the cells have new numbers (replacement upserts, the UPDATE
 * path), the rest are unchanged, and one cell has gone (the window is written
 * with `replace`, so it is deleted as a ghost row). Then a check that nothing
 * was lost: the table holds exactly the cells the writers committed, with
 * their numbers, and the three roll-ups equal the raw rows. Bounded: it stops
 * by itself. Any deadlock, serialization failure, other failed write, lost
 * row or mismatch makes it exit 1.
 *
 * `--sharing none` (default): each writer its own source_system. `--sharing
 * pairs`: writers 2k and 2k+1 are two sources writing the same source_system
 * and instance (different users), so they share token_usage_daily rows; they
 * write without `replace` (each would delete the other's rows as ghosts), so
 * no cell goes.
 *
 *   pnpm --filter @utt/bench exec tsx load/run.ts --url postgres://…/db [--writers 4] [--seconds 20] [--cells 200] [--settle 6] [--sharing none|pairs]
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
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
    settle: { type: 'string', default: '6' },
    sharing: { type: 'string', default: 'none' },
    writer: { type: 'string' },
  },
});
if (!flags.url) throw new Error('pass --url postgres://… (or UTT_BENCH_DATABASE_URL)');
if (flags.sharing !== 'none' && flags.sharing !== 'pairs') throw new Error('--sharing none|pairs');
const schema = 'bench_load';
const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
type WriterReport = {
  writer: number;
  windows: number;
  /** Rows sent (new and replayed). */
  rowsWritten: number;
  /** Cells the writer's committed windows leave stored, and the sum of their input tokens. */
  cellsStored: number;
  inputTokens: number;
  replaced: number;
  ghostsDeleted: number;
  deadlocks: number;
  serializationFailures: number;
  failures: number;
  firstFailure?: string;
  seconds: number;
};

const systemOf = (writer: number) => (flags.sharing === 'pairs' ? `load_${Math.floor(writer / 2)}` : `load_${writer}`);

if (flags.writer !== undefined) {
  const writer = Number(flags.writer);
  const cells = Number(flags.cells);
  const settle = Number(flags.settle);
  const source = `writer_${writer}`;
  const sourceSystem = systemOf(writer);
  // Two sources of one instance cannot both re-collect a window completely: each would delete the other's rows as ghosts.
  const replaceWindows = flags.sharing === 'none';
  const store = await openStore({ url: flags.url, schema, migrate: false });
  const deadline = performance.now() + Number(flags.seconds) * 1000;
  const report: WriterReport = { writer, windows: 0, rowsWritten: 0, cellsStored: 0, inputTokens: 0, replaced: 0, ghostsDeleted: 0, deadlocks: 0, serializationFailures: 0, failures: 0, seconds: 0 };
  // What the last `settle` committed hours hold, per hour and cell (undefined: the cell is not stored).
  let stored = new Map<number, (number | undefined)[]>();
  const cellRow = (at: number, cell: number, input: number) =>
    toUsageRow(
      { granularity: 'hour', bucket_start: new Date(at), provider: 'openai', model: `m${cell % 8}`, user_id: `w${writer}u${cell}`, input_tokens: input, output_tokens: 1, requests: 1, measurement_basis: 'exact' },
      { sourceSystem, defaultInstance: '', where: 'load' },
    );
  const started = performance.now();
  while (performance.now() < deadline) {
    const windowStart = START + report.windows * 24 * HOUR;
    const replayStart = report.windows === 0 ? windowStart : windowStart - settle * HOUR;
    const rows: UsageRow[] = [];
    const next = new Map<number, (number | undefined)[]>();
    let tokenChange = 0;
    let cellChange = 0;
    let replaced = 0;
    let ghosts = 0;
    for (let at = replayStart; at < windowStart + 24 * HOUR; at += HOUR) {
      const before = stored.get(at);
      const now: (number | undefined)[] = new Array(cells);
      for (let cell = 0; cell < cells; cell++) {
        const old = before?.[cell];
        let input: number | undefined;
        if (at < windowStart) {
          if (old === undefined) continue;
          // The replay: one cell of the window's first replayed hour is gone (a ghost), a third have new numbers.
          if (replaceWindows && at === replayStart && cell === report.windows % cells) {
            ghosts++;
            cellChange--;
            tokenChange -= old;
            continue;
          }
          input = (cell + report.windows) % 3 === 0 ? old + 1 : old;
          if (input !== old) replaced++;
          tokenChange += input - old;
        } else {
          input = 1 + ((report.windows * 31 + (at / HOUR) * 7 + cell) % 10_000);
          tokenChange += input;
          cellChange++;
        }
        now[cell] = input;
        rows.push(cellRow(at, cell, input));
      }
      if (at >= windowStart + (24 - settle) * HOUR) next.set(at, now);
    }
    try {
      await store.writeSourceWindow({
        source,
        sourceSystem,
        rows,
        watermark: { at: new Date(windowStart + 24 * HOUR), granularity: 'hour' },
        status: { status: 'ok' },
        ...(replaceWindows ? { replace: { start: new Date(replayStart), end: new Date(windowStart + 24 * HOUR), granularity: 'hour' as const, sourceInstances: [''] } } : {}),
      });
      report.windows++;
      report.rowsWritten += rows.length;
      report.cellsStored += cellChange;
      report.inputTokens += tokenChange;
      report.replaced += replaced;
      report.ghostsDeleted += ghosts;
      stored = next;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '40P01') report.deadlocks++;
      else if (code === '40001') report.serializationFailures++;
      else report.failures++;
      report.firstFailure ??= `${code ?? ''} ${(error as Error).message}`.slice(0, 300);
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
const startedAt = new Date().toISOString();
const loadBefore = loadavg().map((load) => load.toFixed(2)).join(', ');
console.log(`machine: ${machine()}`);
console.log(
  `${writers} writer processes × ${flags.seconds} s, ${flags.sharing === 'pairs' ? 'two sources per source_system (pairs share roll-up rows)' : 'each writer its own source_system'}; ` +
    `each transaction: 24 new hours × ${flags.cells} cells (${24 * Number(flags.cells)} rows) and a replay of the last ${flags.settle} hours (${Number(flags.settle) * Number(flags.cells) - (flags.sharing === 'none' ? 1 : 0)} rows, a third of them changed${flags.sharing === 'none' ? ', one cell gone' : ''})`,
);

const script = fileURLToPath(import.meta.url);
const passOn = ['--url', flags.url as string, '--seconds', flags.seconds as string, '--cells', flags.cells as string, '--settle', flags.settle as string, '--sharing', flags.sharing as string];
const reports = await Promise.all(
  Array.from(
    { length: writers },
    (_, writer) =>
      new Promise<WriterReport>((resolve, reject) => {
        const child = fork(script, [...passOn, '--writer', String(writer)], { execArgv: ['--import', 'tsx'] });
        child.on('message', (message) => resolve(message as WriterReport));
        child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`writer ${writer} exited with ${code}`))));
      }),
  ),
);
const loadAfter = loadavg().map((load) => load.toFixed(2)).join(', ');

const total = (pick: (report: WriterReport) => number) => reports.reduce((sum, report) => sum + pick(report), 0);
const cellsStored = total((report) => report.cellsStored);
const tokensStored = total((report) => report.inputTokens);
const rowsWritten = total((report) => report.rowsWritten);
const longest = Math.max(...reports.map((report) => report.seconds));
const [stored] = await setup.client.query<{ rows: string; tokens: string }>(
  `SELECT count(*)::text AS rows, sum(input_tokens)::text AS tokens FROM ${schema}.token_usage`,
);
// Each roll-up against the raw rows, group by group, both ways (row counts and input tokens).
const rollups = await setup.client.query<{ rollup: string; differing: string; rows: string; tokens: string }>(
  `WITH raw AS (SELECT * FROM ${schema}.token_usage),
   daily_expected AS (SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day_start, granularity, source_system, source_instance, provider, model,
                             count(*) AS row_count, sum(input_tokens) AS input_tokens FROM raw GROUP BY 1, 2, 3, 4, 5, 6),
   daily_stored AS (SELECT day_start, granularity, source_system, source_instance, provider, model, row_count, input_tokens FROM ${schema}.token_usage_daily),
   detail_expected AS (SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, source_system, source_instance, provider, model, account, api_key, user_id,
                              count(*) AS row_count, sum(input_tokens) AS input_tokens FROM raw GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
   detail_stored AS (SELECT day, source_system, source_instance, provider, model, account, api_key, user_id, sum(row_count) AS row_count, sum(input_tokens) AS input_tokens
                     FROM ${schema}.token_usage_daily_detail WHERE time_zone = 'UTC' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
   by_user_expected AS (SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, source_system, source_instance, provider, model, account, user_id,
                               count(*) AS row_count, sum(input_tokens) AS input_tokens FROM raw GROUP BY 1, 2, 3, 4, 5, 6, 7),
   by_user_stored AS (SELECT day, source_system, source_instance, provider, model, account, user_id, sum(row_count) AS row_count, sum(input_tokens) AS input_tokens
                      FROM ${schema}.token_usage_daily_by_user WHERE time_zone = 'UTC' GROUP BY 1, 2, 3, 4, 5, 6, 7)
   SELECT 'token_usage_daily' AS rollup,
          (SELECT count(*) FROM ((SELECT * FROM daily_expected EXCEPT ALL SELECT * FROM daily_stored) UNION ALL (SELECT * FROM daily_stored EXCEPT ALL SELECT * FROM daily_expected)) AS d)::text AS differing,
          (SELECT sum(row_count) FROM daily_stored)::text AS rows, (SELECT sum(input_tokens) FROM daily_stored)::text AS tokens
   UNION ALL
   SELECT 'token_usage_daily_detail',
          (SELECT count(*) FROM ((SELECT * FROM detail_expected EXCEPT ALL SELECT * FROM detail_stored) UNION ALL (SELECT * FROM detail_stored EXCEPT ALL SELECT * FROM detail_expected)) AS d)::text,
          (SELECT sum(row_count) FROM detail_stored)::text, (SELECT sum(input_tokens) FROM detail_stored)::text
   UNION ALL
   SELECT 'token_usage_daily_by_user',
          (SELECT count(*) FROM ((SELECT * FROM by_user_expected EXCEPT ALL SELECT * FROM by_user_stored) UNION ALL (SELECT * FROM by_user_stored EXCEPT ALL SELECT * FROM by_user_expected)) AS d)::text,
          (SELECT sum(row_count) FROM by_user_stored)::text, (SELECT sum(input_tokens) FROM by_user_stored)::text`,
);
for (const report of reports) {
  console.log(
    `  writer ${report.writer} (${systemOf(report.writer)}): ${report.windows} transactions, ${report.rowsWritten.toLocaleString('en')} rows written (${report.replaced.toLocaleString('en')} replaced with new numbers, ${report.ghostsDeleted} ghosts deleted) in ${fmt(report.seconds)} s (${fmt(report.rowsWritten / report.seconds, 0)} rows/s), ` +
      `${report.deadlocks} deadlocks, ${report.serializationFailures} serialization failures, ${report.failures} other failures${report.firstFailure ? ` (first: ${report.firstFailure})` : ''}`,
  );
}
const deadlocks = total((report) => report.deadlocks);
const serializationFailures = total((report) => report.serializationFailures);
const failures = total((report) => report.failures);
const lost = cellsStored - Number(stored?.rows ?? 0);
const tableExact = lost === 0 && String(tokensStored) === stored?.tokens;
const rollupsExact = rollups.every((rollup) => rollup.differing === '0' && rollup.rows === String(cellsStored) && rollup.tokens === String(tokensStored));
console.log(`from ${startedAt}: load average ${loadBefore} before, ${loadAfter} after`);
console.log(
  `total: ${rowsWritten.toLocaleString('en')} rows written in ${fmt(longest)} s = ${fmt(rowsWritten / longest, 0)} rows/s sustained by ${writers} processes ` +
    `(${fmt(cellsStored / longest, 0)} new cells/s; ${total((report) => report.windows)} transactions)`,
);
console.log(`check: table holds ${Number(stored?.rows).toLocaleString('en')} rows, the writers' committed windows leave ${cellsStored.toLocaleString('en')} (${lost} lost); input tokens ${stored?.tokens} vs ${tokensStored}: ${tableExact ? 'equal' : 'MISMATCH'}`);
for (const rollup of rollups) console.log(`check: ${rollup.rollup} (UTC) against the raw rows: ${rollup.differing} groups differ; ${rollup.rows} rows / ${rollup.tokens} tokens`);
console.log(`deadlocks: ${deadlocks}, serialization failures: ${serializationFailures}, other failures: ${failures}`);
await setup.client.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await setup.close();
const ok = tableExact && rollupsExact && deadlocks === 0 && serializationFailures === 0 && failures === 0;
console.log(ok ? 'result: exact, no failed write' : 'result: FAILED (see above)');
process.exit(ok ? 0 : 1);
