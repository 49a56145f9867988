/**
 * `utt import` of a per-request file against COPY, in the same run and on the
 * same data:
 * - `distinct` (every row its own hourly cell): the import against COPY of the
 *   same final rows into token_usage (what the import writes, written the
 *   fastest way PostgreSQL has);
 * - `rollup` (a million requests into a few thousand hourly cells, priced per
 *   request): the import against a raw COPY of the file into an unindexed
 *   staging table;
 * - `invalid` (the rollup rows, 90 % of them bad, `--bad-share` to change it),
 *   imported with `--skip-invalid`: peak RSS must stay bounded however many
 *   lines are bad; timed against the same raw COPY.
 * Peak RSS is the largest of the runs (the bound holds for the worst), against
 * 256 MB for every shape.
 * Whole processes (`node apps/worker/dist/cli.js import …` under
 * /usr/bin/time, with peak RSS) and in-process (readImportEvents →
 * UsageStore.importUsageEvents in this process), said which is which.
 *
 *   pnpm --filter @utt/bench exec tsx import/run.ts --url postgres://…/db [--rows 1000000] [--runs 1]
 *   pnpm --filter @utt/bench exec tsx import/run.ts --pglite [--rows 200000]
 *   … [--shape distinct|rollup|invalid|both|all]   one shape, both = distinct and rollup (default: all three)
 *   … [--bad-share 0.9]           the share of bad lines in invalid.csv
 *   … [--skip-reimport]            no second whole-process import (it replaces every cell: slow for distinct)
 */
import { appendFileSync, createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readImportEvents } from '@utt/adapter-manual-import';
import { openStore, type UsageStore } from '@utt/postgres';
import { createPricer, loadPriceRegistry } from '@utt/pricing';
import { cli, elapsed, fmt, loadAverage, machine, timedProcess } from '../shared/measure';
import { DEFAULT_BAD_SHARE, generateImportCsv, IMPORT_HEADER, IMPORT_SHAPES, type ImportShape } from './generate-import-csv';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.UTT_BENCH_DATABASE_URL },
    pglite: { type: 'boolean', default: false },
    rows: { type: 'string' },
    runs: { type: 'string', default: '1' },
    shape: { type: 'string', default: 'all' },
    'bad-share': { type: 'string', default: String(DEFAULT_BAD_SHARE) },
    // The re-import of a million distinct cells takes about twice the first import: skip it for a quicker run.
    'skip-reimport': { type: 'boolean', default: false },
  },
});
if (!flags.url && !flags.pglite) throw new Error('pass --url postgres://… (or UTT_BENCH_DATABASE_URL) or --pglite');
const rows = Number(flags.rows ?? (flags.pglite ? 200_000 : 1_000_000));
const SHAPE_SETS: Readonly<Record<string, readonly ImportShape[]>> = {
  all: IMPORT_SHAPES,
  both: ['distinct', 'rollup'],
  ...Object.fromEntries(IMPORT_SHAPES.map((shape) => [shape, [shape]])),
};
const shapes = SHAPE_SETS[flags.shape as string];
if (shapes === undefined) throw new Error('--shape is distinct, rollup, invalid, both (distinct and rollup) or all');
const badShare = Number(flags['bad-share']);
if (!(badShare >= 0 && badShare <= 1)) throw new Error('--bad-share is a share between 0 and 1');
/** The bound of issue #12 on every import, whatever the file. */
const RSS_LIMIT_MB = 256;
const runs = Number(flags.runs);
const schema = 'bench_import';
const work = mkdtempSync(path.join(tmpdir(), 'utt-bench-import-'));
const storeOptions = (name: string) => (flags.pglite ? { path: path.join(work, `pglite-${name}`), schema } : { url: flags.url as string, schema });

console.log(`machine: ${machine()}`);
console.log(
  `database: ${flags.pglite ? 'PGlite (embedded)' : 'PostgreSQL server'}; ${rows.toLocaleString('en')} rows per file; times best of ${runs}, peak RSS largest of ${runs}; cli ${cli}`,
);

const files: Record<ImportShape, string> = {
  distinct: path.join(work, 'distinct.csv'),
  rollup: path.join(work, 'rollup.csv'),
  invalid: path.join(work, 'invalid.csv'),
};
for (const shape of shapes) {
  const generated = await elapsed(() => generateImportCsv(files[shape], shape, rows, undefined, badShare));
  const bad = shape === 'invalid' ? ` (${generated.value.badRows.toLocaleString('en')} bad lines)` : '';
  console.log(`generated ${shape}.csv: ${(generated.value.bytes / 1e6).toFixed(1)} MB${bad} in ${fmt(generated.ms / 1000)} s`);
}
/** `utt import`'s flags and accepted exit codes for a shape: the bad lines of invalid.csv are skipped, which exits 2. */
const importArgs = (shape: ImportShape): { flags: string[]; allowExit: number[] } =>
  shape === 'invalid' ? { flags: ['--skip-invalid'], allowExit: [2] } : { flags: [], allowExit: [0] };

async function freshStore(name: string): Promise<UsageStore> {
  if (!flags.pglite) {
    const store = await openStore({ ...storeOptions(name), migrate: false });
    await store.client.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await store.close();
  } else {
    rmSync(path.join(work, `pglite-${name}`), { recursive: true, force: true });
  }
  return openStore(storeOptions(name));
}

/** The file as COPY input, each chunk ending at a line end (copyFrom's contract: PGlite sends chunks as separate blobs). */
async function* fileChunks(file: string, skipHeader: boolean): AsyncGenerator<string> {
  let headerSkipped = !skipHeader;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    let text = rest + chunk;
    if (!headerSkipped) {
      const newline = text.indexOf('\n');
      if (newline === -1) {
        rest = text;
        continue;
      }
      headerSkipped = true;
      text = text.slice(newline + 1);
    }
    const lastNewline = text.lastIndexOf('\n');
    rest = text.slice(lastNewline + 1);
    if (lastNewline >= 0) yield text.slice(0, lastNewline + 1);
  }
  if (rest.length > 0) yield `${rest}\n`;
}

/** A raw COPY of the CSV into an unindexed table of text columns: the fastest a file gets into PostgreSQL. */
async function rawCopy(store: UsageStore, shape: ImportShape): Promise<number> {
  const columns = IMPORT_HEADER[shape].split(',');
  return (
    await elapsed(() =>
      store.client.transaction(async (tx) => {
        await tx.exec(`CREATE TEMPORARY TABLE raw_stage (${columns.map((column) => `${column} text`).join(', ')}) ON COMMIT DROP`);
        // PGlite sends COPY in separate blobs; CSV HEADER would skip a line of each, so the header is skipped here.
        await tx.copyFrom('COPY raw_stage FROM STDIN (FORMAT csv)', fileChunks(files[shape], true));
      }),
    )
  ).ms;
}

const FINAL_COLUMNS = `source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels,
  input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
  cost_usd, cost_source, price_ref, unpriced_reason, measurement_basis`;

/** COPY of the rows the import wrote, into an emptied token_usage (its indexes and roll-up triggers included). */
async function finalRowsCopy(store: UsageStore): Promise<{ ms: number; rows: number }> {
  const dump = path.join(work, 'final-rows.tsv');
  const exported = await store.client.query<Record<string, unknown>>(`SELECT count(*)::bigint AS n FROM "${schema}".token_usage`);
  // Dump through the client in text format, a page of rows at a time, so the bench stays in bounded memory.
  writeFileSync(dump, '');
  let lastId = 0;
  for (;;) {
    const page = await store.client.query<{ id: number; line: string }>(
      `SELECT id, concat_ws(E'\\t', ${FINAL_COLUMNS.split(',')
        .map((column) => `COALESCE(replace(replace(${column.trim()}::text, E'\\\\', E'\\\\\\\\'), E'\\t', E'\\\\t'), E'\\\\N')`)
        .join(', ')}) AS line
       FROM "${schema}".token_usage WHERE id > $1 ORDER BY id LIMIT 100000`,
      [lastId],
    );
    if (page.length === 0) break;
    appendFileSync(dump, `${page.map((row) => row.line).join('\n')}\n`);
    lastId = page[page.length - 1]?.id ?? lastId;
  }
  await store.client.exec(`TRUNCATE "${schema}".token_usage`);
  const timing = await elapsed(() => store.client.copyFrom(`COPY "${schema}".token_usage (${FINAL_COLUMNS}) FROM STDIN`, fileChunks(dump, false)));
  return { ms: timing.ms, rows: Number(exported[0]?.n ?? 0) };
}

/** Wall and CPU seconds of readImportEvents → importUsageEvents in this process (CPU: this process only, not the server's). */
async function inProcessImport(store: UsageStore, shape: ImportShape): Promise<{ seconds: number; cpuSeconds: number; cells: number }> {
  const registry = await loadPriceRegistry();
  const cpu = process.cpuUsage();
  const timing = await elapsed(async () => {
    const stream = readImportEvents(files[shape], { pricer: createPricer(registry), pricePlans: true, skipInvalid: shape === 'invalid' });
    return store.importUsageEvents({ sourceSystem: 'manual', sourceInstance: `${shape}.csv`, events: stream.batches });
  });
  const used = process.cpuUsage(cpu);
  return { seconds: timing.ms / 1000, cpuSeconds: (used.user + used.system) / 1e6, cells: timing.value.rowsWritten };
}

const best = (values: number[]) => Math.min(...values);
/** Peak RSS is bounded for every run, so the figure is the worst run's. */
const worst = (values: number[]) => Math.max(...values);
const results: string[] = [];
for (const shape of shapes) {
  const processSeconds: number[] = [];
  const processCpu: number[] = [];
  const rss: number[] = [];
  const inProcess: number[] = [];
  const inProcessCpu: number[] = [];
  const loads: string[] = [];
  const reimport: number[] = [];
  const raw: number[] = [];
  const finalCopy: number[] = [];
  let cells = 0;
  let skippedLines = '';
  for (let run = 0; run < runs; run++) {
    if (!flags.pglite) {
      const store = await freshStore(shape);
      await store.close();
      const config = path.join(work, 'utt.config.yaml');
      writeFileSync(config, `database:\n  url: ${flags.url}\n  schema: ${schema}\nsources: []\n`);
      loads.push(loadAverage());
      const { flags: extraFlags, allowExit } = importArgs(shape);
      const first = timedProcess('node', [cli, 'import', files[shape], ...extraFlags, '--config', config], { allowExit });
      processSeconds.push(first.seconds);
      processCpu.push(first.cpuSeconds);
      rss.push(first.maxRssKb);
      if (!flags['skip-reimport']) {
        const again = timedProcess('node', [cli, 'import', files[shape], ...extraFlags, '--config', config], { allowExit });
        reimport.push(again.seconds);
        rss.push(again.maxRssKb);
      }
      cells = Number(/into (\d+) cells/.exec(first.stdout)?.[1] ?? 0);
      skippedLines = /(\d+) invalid rows skipped/.exec(first.stdout)?.[1] ?? '';
    }
    const store = await freshStore(shape);
    try {
      const imported = await inProcessImport(store, shape);
      inProcess.push(imported.seconds);
      inProcessCpu.push(imported.cpuSeconds);
      cells = imported.cells;
      raw.push((await rawCopy(store, shape)) / 1000);
      loads.push(loadAverage());
      if (shape === 'distinct') {
        const copied = await finalRowsCopy(store);
        finalCopy.push(copied.ms / 1000);
        cells = copied.rows;
      }
    } finally {
      await store.close();
    }
  }
  const mb = statSync(files[shape]).size / 1e6;
  const skipped = skippedLines === '' ? '' : `, ${Number(skippedLines).toLocaleString('en')} bad lines skipped`;
  const line = [`\n${shape}.csv: ${rows.toLocaleString('en')} rows, ${fmt(mb)} MB → ${cells.toLocaleString('en')} cells${skipped}`];
  if (processSeconds.length > 0) {
    const command = `utt import${importArgs(shape).flags.map((flag) => ` ${flag}`).join('')}`;
    line.push(
      `  whole process  ${command} (new rows): ${fmt(best(processSeconds), 2)} s, ${fmt(best(processCpu), 2)} s of CPU (every run: ${processSeconds.map((seconds) => fmt(seconds, 2)).join(', ')} s)`,
    );
    if (reimport.length > 0) line.push(`  whole process  ${command} again (replaces): ${fmt(best(reimport), 2)} s (every run: ${reimport.map((seconds) => fmt(seconds, 2)).join(', ')} s)`);
    const peakMb = worst(rss) / 1024;
    line.push(
      `  peak RSS       ${fmt(peakMb, 0)} MB, the largest of ${rss.length} whole-process imports (${rss.map((kb) => fmt(kb / 1024, 0)).join(', ')} MB): ${fmt(peakMb / RSS_LIMIT_MB, 2)} of the ${RSS_LIMIT_MB} MB bound (${peakMb <= RSS_LIMIT_MB ? 'met' : 'NOT met'})`,
    );
  }
  line.push(`  in-process     readImportEvents → importUsageEvents: ${fmt(best(inProcess), 2)} s, ${fmt(best(inProcessCpu), 2)} s of CPU in this process (every run: ${inProcess.map((seconds) => fmt(seconds, 2)).join(', ')} s)`);
  line.push(`  yardstick      raw COPY of the file into an unindexed staging table: ${fmt(best(raw), 2)} s (every run: ${raw.map((seconds) => fmt(seconds, 2)).join(', ')} s)`);
  line.push(`  load average   ${loads.join(' → ')} (1, 5, 15 min; before the imports → after the yardstick, per run)`);
  const importSeconds = processSeconds.length > 0 ? best(processSeconds) : best(inProcess);
  const kind = processSeconds.length > 0 ? 'whole-process' : 'in-process';
  const rawRatio = importSeconds / best(raw);
  const rawTarget = shape === 'rollup' ? `target ≤ 3×: ${rawRatio <= 3 ? 'met' : 'NOT met'}` : 'the target of ≤ 3× is on the roll-up shape';
  line.push(`  ratio          ${kind} import / raw COPY: ${fmt(rawRatio, 2)}× (${rawTarget})`);
  if (processSeconds.length > 0) line.push(`  ratio          in-process import / raw COPY: ${fmt(best(inProcess) / best(raw), 2)}× (less sensitive to a loaded machine: no start-up)`);
  if (finalCopy.length > 0) {
    line.push(`  yardstick      COPY of the same ${cells.toLocaleString('en')} final rows into token_usage: ${fmt(best(finalCopy), 2)} s`);
    const throughput = best(finalCopy) / importSeconds;
    line.push(`  ratio          ${kind} import throughput / COPY of the final rows: ${fmt(throughput, 2)} (target ≥ 0.5: ${throughput >= 0.5 ? 'met' : 'NOT met'})`);
    if (processSeconds.length > 0) line.push(`  ratio          in-process import throughput / COPY of the final rows: ${fmt(best(finalCopy) / best(inProcess), 2)}`);
  }
  results.push(line.join('\n'));
  console.log(line.join('\n'));
}
rmSync(work, { recursive: true, force: true });
