// The agent-logs benchmark: utt's claude-code adapter against ccusage and `wc -l`
// over two shapes of generated Claude Code transcripts (see README.md):
//   tools: >1 GB, mostly large tool results (the in-process cycles of a daemon too)
//   dense: ~300 MB dense in usage lines, with many copies of each response
// Each shape sets a whole `utt backfill` process (`node apps/worker/dist/cli.js`,
// as a user runs it, writing to PostgreSQL) against a whole ccusage process.
//   pnpm --filter @utt/bench exec tsx agent-logs/run.ts [--shape tools|dense|both] [--url postgres://…]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '@utt/postgres';
import { cli, machine } from '../shared/measure';
import { generateClaudeTranscripts } from './generate-claude-transcripts';
import { generateDenseClaudeTranscripts } from './generate-dense-claude-transcripts';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchRoot = path.resolve(here, '..');
const { values: flags } = parseArgs({
  options: {
    shape: { type: 'string', default: process.env.BENCH_SHAPE ?? 'both' },
    url: { type: 'string', default: process.env.UTT_BENCH_DATABASE_URL },
  },
});
if (!['tools', 'dense', 'both'].includes(flags.shape as string)) throw new Error('--shape must be tools, dense or both');
const shapes = flags.shape === 'both' ? (['dense', 'tools'] as const) : ([flags.shape] as Array<'dense' | 'tools'>);
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
const ccusage = path.join(benchRoot, 'node_modules', '.bin', 'ccusage');
console.log(`machine: ${machine()}`);
if (!flags.url) console.log('no --url (or UTT_BENCH_DATABASE_URL): the whole-process `utt backfill` runs are skipped');

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (KB) of the whole process. */
function timed(command: string, args: string[], env: Record<string, string> = {}): { seconds: number; maxRssKb: number; cpuSeconds: number; stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', command, ...args], {
    env: { ...process.env, TZ: 'UTC', ...env },
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const match = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { seconds: Number(match[1]), maxRssKb: Number(match[2]), cpuSeconds: Number(match[3]) + Number(match[4]), stdout: result.stdout };
}

const best = <T extends { seconds: number }>(runs: T[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const times = <T>(run: () => T) => Array.from({ length: repeat }, run);

type Totals = { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number };
const columns = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const;

/** The shape's data folder, generated on first use (seeded: every run gets the same bytes). */
function prepareData(shape: 'tools' | 'dense'): string {
  const dataDir = path.join(benchRoot, '.data', shape === 'tools' ? 'agent-logs' : 'agent-logs-dense', 'claude');
  const marker = path.join(dataDir, '.complete');
  if (!existsSync(marker)) {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const started = performance.now();
    const generated =
      shape === 'tools'
        ? generateClaudeTranscripts({ dir: dataDir, targetBytes: Number(process.env.BENCH_BYTES ?? 1_000_000_000), files: Number(process.env.BENCH_FILES ?? 3_000) })
        : generateDenseClaudeTranscripts({ dir: dataDir });
    writeFileSync(marker, JSON.stringify(generated));
    console.log(`generated ${JSON.stringify(generated)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const generated = JSON.parse(readFileSync(marker, 'utf8')) as Record<string, number>;
  const bytes = Number(execFileSync('du', ['-sb', path.join(dataDir, 'projects')], { encoding: 'utf8' }).split('\t')[0]);
  const described = shape === 'dense' ? `, ${generated.usageLines} usage lines of which ${generated.copies} copies, ${generated.malformedLines} malformed` : '';
  console.log(`\n=== shape ${shape}: ${generated.files} files, ${(bytes / 1e6).toFixed(0)} MB, ${generated.lines} lines${described} (${dataDir})`);
  return dataDir;
}

const schema = 'bench_agent_logs';

/**
 * A cold `utt backfill` as a user runs it: a whole `node apps/worker/dist/cli.js`
 * process on an empty schema (dropped and migrated beforehand, untimed), reading
 * every transcript and writing the rows, the state and the watermark to PostgreSQL.
 * The worker's debug lines give the phases: the scan's, and the work per row
 * after it (validate, price, write).
 */
async function uttBackfillCold(dataDir: string): Promise<{
  seconds: number;
  maxRssKb: number;
  cpuSeconds: number;
  oneShot: { seconds: number; cpuSeconds: number; rows: number };
  help: { seconds: number; cpuSeconds: number };
  totals: Totals & { rows: number };
  scan: Record<string, number>;
  window: Record<string, number>;
}> {
  const url = flags.url as string;
  const setup = await openStore({ url, schema, migrate: false });
  await setup.client.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await setup.migrate();
  await setup.close();
  const dir = mkdtempSync(path.join(tmpdir(), 'utt-bench-agent-logs-'));
  const config = path.join(dir, 'utt.config.yaml');
  writeFileSync(
    config,
    `database:\n  url: ${url}\n  schema: ${schema}\nsources:\n  - name: claude\n    adapter: "@utt/adapter-claude-code"\n    config:\n      instance: bench\n      paths: [${JSON.stringify(path.join(dataDir, 'projects'))}]\n`,
  );
  const result = spawnSync(
    '/usr/bin/time',
    ['-f', '__TIME__ %e %M %U %S', process.execPath, cli, 'backfill', '--source', 'claude', '--since', '2026-09-01', '--now', '2026-11-15T12:00:00Z', '--config', config, '--log-level', 'debug'],
    { cwd: dir, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28, encoding: 'utf8' },
  );
  const match = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`utt backfill failed (${result.status}): ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
  // Item 4 of the issue: a one-shot `utt run` right after, which finds nothing new (every file's cursor matches).
  const again = spawnSync(
    '/usr/bin/time',
    ['-f', '__TIME__ %e %M %U %S', process.execPath, cli, 'run', '--now', '2026-11-15T12:00:00Z', '--config', config, '--log-level', 'debug'],
    { cwd: dir, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28, encoding: 'utf8' },
  );
  // Item 4's other half: `utt --help`, a whole process too, timed in the same round as the cold run it is a share of.
  const help = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', process.execPath, cli, '--help'], {
    cwd: dir,
    env: { ...process.env, TZ: 'UTC' },
    encoding: 'utf8',
  });
  rmSync(dir, { recursive: true, force: true });
  const helpMatch = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(help.stderr);
  if (help.status !== 0 || !helpMatch) throw new Error(`utt --help failed (${help.status}): ${help.stderr.slice(-2000)}`);
  const againMatch = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(again.stderr);
  const againWindow = /wrote the window (\{.*\})/.exec(again.stderr);
  if (again.status !== 0 || !againMatch) throw new Error(`utt run failed (${again.status}): ${again.stdout.slice(-2000)}${again.stderr.slice(-2000)}`);
  const fields = (message: string) => {
    const line = result.stderr.split('\n').find((text) => text.includes(message));
    return line ? (JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>) : {};
  };
  const check = await openStore({ url, schema, migrate: false });
  const [sums] = await check.client.query<Record<string, string>>(
    `SELECT COALESCE(SUM(input_tokens), 0)::text AS input, COALESCE(SUM(output_tokens), 0)::text AS output,
            COALESCE(SUM(cached_write_tokens), 0)::text AS cache_write, COALESCE(SUM(cached_read_tokens), 0)::text AS cache_read, count(*)::text AS rows
     FROM "${schema}".token_usage WHERE source_system = 'claude_code'`,
  );
  await check.close();
  return {
    seconds: Number(match[1]),
    maxRssKb: Number(match[2]),
    cpuSeconds: Number(match[3]) + Number(match[4]),
    oneShot: {
      seconds: Number(againMatch[1]),
      cpuSeconds: Number(againMatch[3]) + Number(againMatch[4]),
      rows: againWindow ? (JSON.parse(againWindow[1] as string) as { rowsWritten: number }).rowsWritten : -1,
    },
    help: { seconds: Number(helpMatch[1]), cpuSeconds: Number(helpMatch[3]) + Number(helpMatch[4]) },
    totals: {
      inputTokens: Number(sums?.input),
      outputTokens: Number(sums?.output),
      cacheCreationTokens: Number(sums?.cache_write),
      cacheReadTokens: Number(sums?.cache_read),
      rows: Number(sums?.rows),
    },
    scan: fields('scanned transcripts'),
    window: fields('wrote the window'),
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** ccusage and a cold `utt backfill`, whole process against whole process, taking turns. */
async function wholeProcesses(shape: string, dataDir: string): Promise<Record<string, unknown>> {
  const rounds = Math.max(repeat, 3);
  const ccRuns: Array<ReturnType<typeof timed>> = [];
  const uttRuns: Array<Awaited<ReturnType<typeof uttBackfillCold>>> = [];
  const loads: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    loads.push(loadavg()[0] as number);
    ccRuns.push(timed(ccusage, ['daily', '--json', '--offline'], { CLAUDE_CONFIG_DIR: dataDir }));
    if (flags.url) uttRuns.push(await uttBackfillCold(dataDir));
  }
  loads.push(loadavg()[0] as number);
  const cc = best(ccRuns);
  const ccTotals = (JSON.parse(cc.stdout) as { totals: Totals }).totals;
  console.log(`load average (1 min) before each round and at the end: ${loads.map((value) => value.toFixed(2)).join(', ')}`);
  console.log(`ccusage daily --json --offline:  ${ccRuns.map((run) => run.seconds.toFixed(2)).join(', ')} s (CPU user+sys ${ccRuns.map((run) => run.cpuSeconds.toFixed(2)).join(', ')} s), peak RSS ${(cc.maxRssKb / 1024).toFixed(0)} MB`);
  if (uttRuns.length === 0) return { shape, ccusage: ccRuns };
  const utt = best(uttRuns);
  console.log(`utt backfill (cold, whole process): ${uttRuns.map((run) => run.seconds.toFixed(2)).join(', ')} s (CPU user+sys ${uttRuns.map((run) => run.cpuSeconds.toFixed(2)).join(', ')} s), peak RSS ${(utt.maxRssKb / 1024).toFixed(0)} MB, ${utt.totals.rows} rows`);
  const oneShot = uttRuns.map((run) => run.oneShot.seconds / run.seconds);
  console.log(
    `one-shot \`utt run\` right after (nothing new: ${uttRuns.map((run) => run.oneShot.rows).join(', ')} rows): ${uttRuns.map((run) => run.oneShot.seconds.toFixed(2)).join(', ')} s (CPU ${uttRuns.map((run) => run.oneShot.cpuSeconds.toFixed(2)).join(', ')} s), ${oneShot.map((ratio) => `${(100 * ratio).toFixed(1)} %`).join(', ')} of the cold run before it, median ${(100 * median(oneShot)).toFixed(1)} % (target < 10 %: ${median(oneShot) < 0.1 ? 'met' : 'NOT met'}); in CPU time ${uttRuns.map((run) => `${((100 * run.oneShot.cpuSeconds) / run.cpuSeconds).toFixed(1)} %`).join(', ')}`,
  );
  const helpShare = uttRuns.map((run) => run.help.seconds / run.seconds);
  console.log(
    `\`utt --help\` (whole process) in the same rounds: ${uttRuns.map((run) => run.help.seconds.toFixed(2)).join(', ')} s (CPU ${uttRuns.map((run) => run.help.cpuSeconds.toFixed(2)).join(', ')} s), ${helpShare.map((ratio) => `${(100 * ratio).toFixed(1)} %`).join(', ')} of the cold run before it, median ${(100 * median(helpShare)).toFixed(1)} % (target < 10 %: ${median(helpShare) < 0.1 ? 'met' : 'NOT met'}); in CPU time (this process's, not PostgreSQL's) ${uttRuns.map((run) => `${((100 * run.help.cpuSeconds) / run.cpuSeconds).toFixed(1)} %`).join(', ')}`,
  );
  const { discoverMs, readMs, ledgerMs } = utt.scan;
  console.log(`  fastest run's scan: find files ${discoverMs} ms, read+parse ${readMs} ms, hours ${ledgerMs} ms; collect() ${utt.window.collectMs} ms in all`);
  // The work per row after the scan is this process's: validating, pricing, and building and sending the
  // write (its CPU time); the wait for PostgreSQL to insert the rows and keep the daily roll-up is shown apart.
  const perRow = uttRuns.map((run) => (run.window.validateMs ?? 0) + (run.window.priceMs ?? 0) + (run.window.writeCpuMs ?? 0));
  const list = (pick: (run: (typeof uttRuns)[number]) => number | undefined) => uttRuns.map((run) => (pick(run) ?? 0).toFixed(0)).join(', ');
  console.log(
    `  after the scan, ${utt.window.records} rows: validate ${list((run) => run.window.validateMs)} ms, price ${list((run) => run.window.priceMs)} ms, write ${list((run) => run.window.writeMs)} ms wall of which this process's CPU ${list((run) => run.window.writeCpuMs)} ms`,
  );
  // The same phases in this process's CPU time (every thread: the collector's and the compiler's too), steadier on a busy machine.
  if (uttRuns.some((run) => run.window.validateCpuMs !== undefined)) {
    console.log(`  in CPU time: validate ${list((run) => run.window.validateCpuMs)} ms, price ${list((run) => run.window.priceCpuMs)} ms`);
  }
  const perRowTarget = (100 * (utt.window.records ?? 0)) / 16_000;
  console.log(
    `  work per row after the scan (validate + price + the write's CPU): ${perRow.map((ms) => ms.toFixed(0)).join(', ')} ms, median ${median(perRow).toFixed(0)} ms (target ≤ 100 ms for 16,000 rows, ${perRowTarget.toFixed(0)} ms for these ${utt.window.records}: ${median(perRow) <= perRowTarget ? 'met' : 'NOT met'})`,
  );
  // The same work on its own: the last run's records and state, validated, priced and written in a fresh
  // process with no scan before it (per-row-work.ts), so none of the scan's garbage is collected meanwhile.
  const isolated = Array.from({ length: 2 }, () => {
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'per-row-work.ts'), flags.url as string], { encoding: 'utf8' });
    return JSON.parse(output.trim().split('\n').pop() as string) as Record<string, number>;
  });
  const isolatedWork = isolated.map((run) => (run.validateMs ?? 0) + (run.priceMs ?? 0) + (run.writeCpuMs ?? 0));
  console.log(
    `  the same ${isolated[0]?.records} rows and ${isolated[0]?.stateKeys} state keys in a fresh process, no scan before: validate ${isolated.map((run) => run.validateMs?.toFixed(0)).join(', ')} ms, price ${isolated.map((run) => run.priceMs?.toFixed(0)).join(', ')} ms, write CPU ${isolated.map((run) => run.writeCpuMs?.toFixed(0)).join(', ')} ms (wall ${isolated.map((run) => run.writeMs?.toFixed(0)).join(', ')} ms): ${isolatedWork.map((ms) => ms.toFixed(0)).join(', ')} ms (target ${perRowTarget.toFixed(0)} ms: ${Math.min(...isolatedWork) <= perRowTarget ? 'met' : 'NOT met'})`,
  );
  console.log('token totals      utt               ccusage           difference');
  let equal = true;
  for (const run of uttRuns) for (const column of columns) equal &&= run.totals[column] === (ccTotals[column] ?? 0);
  for (const column of columns) {
    console.log(`${column.padEnd(18)}${String(utt.totals[column]).padStart(16)}  ${String(ccTotals[column] ?? 0).padStart(16)}  ${String(utt.totals[column] - (ccTotals[column] ?? 0)).padStart(12)}`);
  }
  console.log(equal ? 'every utt run equals ccusage in every token total' : 'TOKEN TOTALS DIFFER FROM CCUSAGE');
  const paired = uttRuns.map((run, index) => run.seconds / (ccRuns[index] as { seconds: number }).seconds);
  console.log(`ratio utt backfill (whole process) / ccusage: ${(utt.seconds / cc.seconds).toFixed(2)} fastest against fastest; run by run ${paired.map((ratio) => ratio.toFixed(2)).join(', ')}, median ${median(paired).toFixed(2)} (target ≤ 1)`);
  if (!equal) process.exitCode = 1;
  return { shape, ccusage: ccRuns.map(({ stdout: _, ...run }) => run), utt: uttRuns, ratio: utt.seconds / cc.seconds, paired, perRowMs: perRow, isolated, totalsEqual: equal };
}

const results: Record<string, unknown> = {};
for (const shape of shapes) {
  const dataDir = prepareData(shape);
  results[shape] = await wholeProcesses(shape, dataDir);
  if (shape === 'tools' && process.env.BENCH_IN_PROCESS !== '0') results.toolsInProcess = inProcessCycles(dataDir);
}
writeFileSync(path.join(benchRoot, '.data', 'agent-logs-results.json'), JSON.stringify(results, null, 2));

/**
 * The tools shape, in process: a cold cycle of the adapter alone, then the
 * cycles of a daemon (watches kept) and without watches, on a worker-like state.
 */
function inProcessCycles(dataDir: string): Record<string, unknown> {
console.log('\nin process (utt-scan.ts: the adapter\'s cycles on a worker-like state, without the database):');
const filesList = execFileSync('find', [path.join(dataDir, 'projects'), '-name', '*.jsonl'], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n');
const bytes = Number(execFileSync('du', ['-sb', path.join(dataDir, 'projects')], { encoding: 'utf8' }).split('\t')[0]);
console.log(`data: ${filesList.length} files, ${(bytes / 1e9).toFixed(2)} GB in ${dataDir}`);

const wc = best(times(() => timed('sh', ['-c', `find "${path.join(dataDir, 'projects')}" -name '*.jsonl' -print0 | xargs -0 cat | wc -l`])));
console.log(`wc -l:       ${wc.seconds.toFixed(2)} s  (${wc.stdout.trim()})`);

// ccusage and utt take turns, so that a slow spell of a shared machine falls on both alike.
const ccRuns: Array<ReturnType<typeof timed>> = [];
const uttRuns: Array<ReturnType<typeof timed> & { result: Record<string, any> }> = [];
for (let round = 0; round < repeat; round += 1) {
  ccRuns.push(timed(ccusage, ['daily', '--json', '--offline'], { CLAUDE_CONFIG_DIR: dataDir }));
  const run = timed(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'utt-scan.ts'), dataDir]);
  uttRuns.push({ ...run, result: JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, any> });
}
const cc = best(ccRuns);
const ccTotals = (JSON.parse(cc.stdout) as { totals: Record<string, number> }).totals;
console.log(`ccusage:     ${cc.seconds.toFixed(2)} s  peak RSS ${(cc.maxRssKb / 1024).toFixed(0)} MB (each run: ${ccRuns.map((run) => run.seconds.toFixed(2)).join(', ')} s)`);
const utt = uttRuns.reduce((a, b) => (b.result.coldMs < a.result.coldMs ? b : a));
console.log(`utt cold cycles: ${uttRuns.map((run) => (run.result.coldMs / 1000).toFixed(2)).join(', ')} s`);
console.log(`load average: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const coldSeconds = utt.result.coldMs / 1000;
const phases = (run: Record<string, any>) =>
  `collect ${run.collectMs.toFixed(1)} ms [find files ${run.scan.discoverMs}, stat ${run.scan.statMs} (${run.scan.filesStatted} files), read+parse ${run.scan.readMs}, hours ${run.scan.ledgerMs}; of which loading ${run.keysLoaded} state keys ${run.loadMs.toFixed(1)} ms], serialise ${run.keysWritten} changed keys (${(run.bytesWritten / 1e6).toFixed(2)} MB) ${run.saveMs.toFixed(1)} ms`;
const milliseconds = (run: Record<string, any>) => `${(run.ms as number).toFixed(1)} ms`;
const incremental = utt.result.incremental as Array<Record<string, any>>;
const medianRound = [...incremental].sort((a, b) => a.ms - b.ms)[Math.floor(incremental.length / 2)] as Record<string, any>;
const appendedMb = (utt.result.appendedBytes / 1e6).toFixed(2);
console.log(`utt cold:    ${coldSeconds.toFixed(2)} s cycle (${phases(utt.result.cold)}; from process start: ${(utt.result.coldProcessMs / 1000).toFixed(2)} s)  peak RSS ${(utt.maxRssKb / 1024).toFixed(0)} MB`);
console.log('as `utt daemon` runs cycles (directory watches kept between them):');
console.log(`  idle:        ${milliseconds(utt.result.idle)}, nothing appended (${phases(utt.result.idle)})`);
console.log(`  incremental: ${incremental.map(milliseconds).join(', ')}: ${incremental.length} rounds of ${appendedMb} MB appended (the first also adds a project directory and a session file)`);
console.log(`    first:     ${phases(incremental[0] as Record<string, any>)}, ${incremental[0]?.rows} rows`);
console.log(`    median:    ${phases(medianRound)}, ${medianRound.rows} rows`);
console.log('without the watches (a one-shot `utt run`, or `watch: false`):');
console.log(`  idle:        ${milliseconds(utt.result.unwatchedIdle)} (${phases(utt.result.unwatchedIdle)})`);
console.log(`  incremental: ${milliseconds(utt.result.unwatched)} after ${appendedMb} MB (${phases(utt.result.unwatched)})`);
console.log(`stat floor:  ${(utt.result.statFloorMs as number).toFixed(1)} ms for a bare stat of the ${filesList.length} files in the same process (best of 3)`);

console.log('\ntoken totals      utt               ccusage           difference');
for (const column of columns) {
  const ours = utt.result.coldTotals[column] as number;
  const theirs = ccTotals[column] ?? 0;
  console.log(`${column.padEnd(18)}${String(ours).padStart(16)}  ${String(theirs).padStart(16)}  ${String(ours - theirs).padStart(12)}`);
}
console.log(`(utt also reports ${utt.result.coldTotals.cacheCreation1hTokens} of the cache writes as 1-hour writes, and ${utt.result.coldTotals.requests} requests)`);

// Each utt run against the ccusage run just before it: the machine was in the same spell for both.
const pairedColdVsCcusage = uttRuns.map((run, index) => run.result.coldMs / 1000 / (ccRuns[index] as { seconds: number }).seconds);
const medianOf = median;
const ratios = {
  uttColdVsCcusage: coldSeconds / cc.seconds,
  uttProcessVsCcusage: utt.result.coldProcessMs / 1000 / cc.seconds,
  uttColdVsWc: coldSeconds / wc.seconds,
  ccusageVsWc: cc.seconds / wc.seconds,
  incrementalFirstVsCold: (incremental[0]?.ms as number) / utt.result.coldMs,
  incrementalMedianVsCold: (medianRound.ms as number) / utt.result.coldMs,
  idleVsCold: utt.result.idle.ms / utt.result.coldMs,
  unwatchedIncrementalVsCold: utt.result.unwatched.ms / utt.result.coldMs,
  statFloorVsCold: utt.result.statFloorMs / utt.result.coldMs,
  pairedColdVsCcusage,
};
const percent = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;
console.log('\nratios');
console.log(`  utt cold scan / ccusage                  ${ratios.uttColdVsCcusage.toFixed(2)}  (target ≤ 1; fastest against fastest)`);
if (repeat > 1) console.log(`  the same, run by run                     ${pairedColdVsCcusage.map((ratio) => ratio.toFixed(2)).join(', ')}: median ${medianOf(pairedColdVsCcusage).toFixed(2)}`);
console.log(`  utt start-up + cold cycle / ccusage      ${ratios.uttProcessVsCcusage.toFixed(2)}`);
console.log(`  utt cold scan / wc -l                    ${ratios.uttColdVsWc.toFixed(2)}`);
console.log(`  ccusage / wc -l                          ${ratios.ccusageVsWc.toFixed(2)}`);
console.log(`  incremental / cold, daemon, first round  ${percent(ratios.incrementalFirstVsCold)}  (target < 1 %)`);
console.log(`  incremental / cold, daemon, median       ${percent(ratios.incrementalMedianVsCold)}  (target < 1 %)`);
console.log(`  idle / cold, daemon                      ${percent(ratios.idleVsCold)}`);
console.log(`  incremental / cold, without watches      ${percent(ratios.unwatchedIncrementalVsCold)}`);
console.log(`  bare stat of every file / cold           ${percent(ratios.statFloorVsCold)}  (the floor of a cycle that must look at every file)`);
console.log(`  peak RSS utt / ccusage                   ${(utt.maxRssKb / 1024).toFixed(0)} MB / ${(cc.maxRssKb / 1024).toFixed(0)} MB; state ${(utt.result.stateBytes / 1e6).toFixed(1)} MB in ${utt.result.stateKeys} keys`);
return { files: filesList.length, bytes, wc, ccusage: { ...cc, stdout: undefined, totals: ccTotals }, utt: { ...utt, stdout: undefined }, ratios };
}
