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

const cc = best(times(() => timed(ccusage, ['daily', '--json', '--offline'], { CLAUDE_CONFIG_DIR: dataDir })));
const ccTotals = (JSON.parse(cc.stdout) as { totals: Record<string, number> }).totals;
console.log(`ccusage:     ${cc.seconds.toFixed(2)} s  peak RSS ${(cc.maxRssKb / 1024).toFixed(0)} MB`);

const uttRuns = times(() => {
  const run = timed(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'utt-scan.ts'), dataDir]);
  return { ...run, result: JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, any> };
});
const utt = uttRuns.reduce((a, b) => (b.result.coldMs < a.result.coldMs ? b : a));
console.log(`load average: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const coldSeconds = utt.result.coldMs / 1000;
const phases = (run: Record<string, any>) =>
  `collect ${run.collectMs.toFixed(1)} ms [find files ${run.scan.discoverMs}, stat ${run.scan.statMs}, read+parse ${run.scan.readMs}, hours ${run.scan.ledgerMs}; of which loading ${run.keysLoaded} state keys ${run.loadMs.toFixed(1)} ms], serialise ${run.keysWritten} changed keys (${(run.bytesWritten / 1e6).toFixed(2)} MB) ${run.saveMs.toFixed(1)} ms`;
console.log(`utt cold:    ${coldSeconds.toFixed(2)} s cycle (${phases(utt.result.cold)}; process incl. Node/tsx start-up and two more cycles: ${utt.seconds.toFixed(2)} s)  peak RSS ${(utt.maxRssKb / 1024).toFixed(0)} MB`);
console.log(`utt idle:    ${(utt.result.idleMs / 1000).toFixed(3)} s cycle with nothing appended (${phases(utt.result.idle)})`);
console.log(`utt incr.:   ${(utt.result.incrementalMs / 1000).toFixed(3)} s cycle after appending ${(utt.result.appendedBytes / 1e6).toFixed(2)} MB, ${utt.result.incrementalRows} rows returned (${phases(utt.result.incremental)})`);
console.log(`stat floor:  ${(utt.result.statFloorMs as number).toFixed(1)} ms for a bare stat of the ${filesList.length} files in the same process (best of 3)`);

const columns = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const;
console.log('\ntoken totals      utt               ccusage           difference');
for (const column of columns) {
  const ours = utt.result.coldTotals[column] as number;
  const theirs = ccTotals[column] ?? 0;
  console.log(`${column.padEnd(18)}${String(ours).padStart(16)}  ${String(theirs).padStart(16)}  ${String(ours - theirs).padStart(12)}`);
}
console.log(`(utt also reports ${utt.result.coldTotals.cacheCreation1hTokens} of the cache writes as 1-hour writes, and ${utt.result.coldTotals.requests} requests)`);

const ratios = {
  uttColdVsCcusage: coldSeconds / cc.seconds,
  uttProcessVsCcusage: utt.seconds / cc.seconds,
  uttColdVsWc: coldSeconds / wc.seconds,
  ccusageVsWc: cc.seconds / wc.seconds,
  incrementalVsCold: utt.result.incrementalMs / utt.result.coldMs,
  statFloorVsCold: utt.result.statFloorMs / utt.result.coldMs,
  idleVsCold: utt.result.idleMs / utt.result.coldMs,
};
console.log('\nratios');
console.log(`  utt cold scan / ccusage        ${ratios.uttColdVsCcusage.toFixed(2)}  (target ≤ 1)`);
console.log(`  utt whole process / ccusage    ${ratios.uttProcessVsCcusage.toFixed(2)}`);
console.log(`  utt cold scan / wc -l          ${ratios.uttColdVsWc.toFixed(2)}`);
console.log(`  ccusage / wc -l                ${ratios.ccusageVsWc.toFixed(2)}`);
console.log(`  incremental / cold             ${(ratios.incrementalVsCold * 100).toFixed(3)} %  (target < 1 %)`);
console.log(`  idle cycle / cold              ${(ratios.idleVsCold * 100).toFixed(3)} %`);
console.log(`  bare stat of every file / cold ${(ratios.statFloorVsCold * 100).toFixed(3)} %  (the floor of any cycle that looks at every file)`);
console.log(`  peak RSS utt / ccusage         ${(utt.maxRssKb / 1024).toFixed(0)} MB / ${(cc.maxRssKb / 1024).toFixed(0)} MB; state ${(utt.result.stateBytes / 1e6).toFixed(1)} MB in ${utt.result.stateKeys} keys`);
writeFileSync(
  path.join(benchRoot, '.data', 'agent-logs', 'results.json'),
  JSON.stringify({ files: filesList.length, bytes, wc, ccusage: { ...cc, stdout: undefined, totals: ccTotals }, utt: { ...utt, stdout: undefined }, ratios }, null, 2),
);
