// The agent-logs benchmark: utt's claude-code adapter against ccusage and `wc -l`
// over the same >1 GB of generated Claude Code transcripts. See README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateClaudeTranscripts } from './generate-claude-transcripts';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchRoot = path.resolve(here, '..');
const dataDir = path.join(benchRoot, '.data', 'agent-logs', 'claude');
const marker = path.join(dataDir, '.complete');
const targetBytes = Number(process.env.BENCH_BYTES ?? 1_000_000_000);
const fileCount = Number(process.env.BENCH_FILES ?? 3_000);
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
const ccusage = path.join(benchRoot, 'node_modules', '.bin', 'ccusage');

if (!existsSync(marker)) {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  const generated = generateClaudeTranscripts({ dir: dataDir, targetBytes, files: fileCount });
  writeFileSync(marker, JSON.stringify(generated));
  console.log(`generated ${generated.files} files, ${(generated.bytes / 1e9).toFixed(2)} GB, ${generated.lines} lines in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (KB) of the whole process. */
function timed(command: string, args: string[], env: Record<string, string> = {}): { seconds: number; maxRssKb: number; stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', command, ...args], {
    env: { ...process.env, TZ: 'UTC', ...env },
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const match = /__TIME__ ([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { seconds: Number(match[1]), maxRssKb: Number(match[2]), stdout: result.stdout };
}

const best = <T extends { seconds: number }>(runs: T[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const times = <T>(run: () => T) => Array.from({ length: repeat }, run);

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
const median = [...incremental].sort((a, b) => a.ms - b.ms)[Math.floor(incremental.length / 2)] as Record<string, any>;
const appendedMb = (utt.result.appendedBytes / 1e6).toFixed(2);
console.log(`utt cold:    ${coldSeconds.toFixed(2)} s cycle (${phases(utt.result.cold)}; from process start: ${(utt.result.coldProcessMs / 1000).toFixed(2)} s)  peak RSS ${(utt.maxRssKb / 1024).toFixed(0)} MB`);
console.log('as `utt daemon` runs cycles (directory watches kept between them):');
console.log(`  idle:        ${milliseconds(utt.result.idle)}, nothing appended (${phases(utt.result.idle)})`);
console.log(`  incremental: ${incremental.map(milliseconds).join(', ')}: ${incremental.length} rounds of ${appendedMb} MB appended (the first also adds a project directory and a session file)`);
console.log(`    first:     ${phases(incremental[0] as Record<string, any>)}, ${incremental[0]?.rows} rows`);
console.log(`    median:    ${phases(median)}, ${median.rows} rows`);
console.log('without the watches (a one-shot `utt run`, or `watch: false`):');
console.log(`  idle:        ${milliseconds(utt.result.unwatchedIdle)} (${phases(utt.result.unwatchedIdle)})`);
console.log(`  incremental: ${milliseconds(utt.result.unwatched)} after ${appendedMb} MB (${phases(utt.result.unwatched)})`);
console.log(`stat floor:  ${(utt.result.statFloorMs as number).toFixed(1)} ms for a bare stat of the ${filesList.length} files in the same process (best of 3)`);

const columns = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const;
console.log('\ntoken totals      utt               ccusage           difference');
for (const column of columns) {
  const ours = utt.result.coldTotals[column] as number;
  const theirs = ccTotals[column] ?? 0;
  console.log(`${column.padEnd(18)}${String(ours).padStart(16)}  ${String(theirs).padStart(16)}  ${String(ours - theirs).padStart(12)}`);
}
console.log(`(utt also reports ${utt.result.coldTotals.cacheCreation1hTokens} of the cache writes as 1-hour writes, and ${utt.result.coldTotals.requests} requests)`);

// Each utt run against the ccusage run just before it: the machine was in the same spell for both.
const pairedColdVsCcusage = uttRuns.map((run, index) => run.result.coldMs / 1000 / (ccRuns[index] as { seconds: number }).seconds);
const medianOf = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const ratios = {
  uttColdVsCcusage: coldSeconds / cc.seconds,
  uttProcessVsCcusage: utt.result.coldProcessMs / 1000 / cc.seconds,
  uttColdVsWc: coldSeconds / wc.seconds,
  ccusageVsWc: cc.seconds / wc.seconds,
  incrementalFirstVsCold: (incremental[0]?.ms as number) / utt.result.coldMs,
  incrementalMedianVsCold: (median.ms as number) / utt.result.coldMs,
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
writeFileSync(
  path.join(benchRoot, '.data', 'agent-logs', 'results.json'),
  JSON.stringify({ files: filesList.length, bytes, wc, ccusage: { ...cc, stdout: undefined, totals: ccTotals }, utt: { ...utt, stdout: undefined }, ratios }, null, 2),
);
