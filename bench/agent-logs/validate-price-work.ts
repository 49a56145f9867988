// Validation and pricing right after a cold scan, in one process, for one
// checkout: the Claude Code adapter's collect() over a corpus (as utt-scan.ts
// runs it), then at once, as the worker does, core's toUsageRows on a copy of
// the records (readCollectResult's) and the worker's priceRows. Each phase is
// timed in wall time, in the process's CPU time, and split by thread (Linux,
// /proc/self/task/*/schedstat): this thread's own work against the V8 platform
// threads' (TurboFan compiling the hot functions, the parallel scavenger),
// which the process's CPU time counts too. Prints one JSON line; `--digest`
// adds an md5 of every priced row, all columns, to compare two checkouts.
// `--marks` writes a line to stderr at each phase's end (to read beside
// `node --trace-gc` or `--trace-opt`).
//   node --import tsx agent-logs/validate-price-work.ts <checkout root> <CLAUDE_CONFIG_DIR> [--digest] [--marks]
// Two checkouts in turns: main's build and this one, each in a fresh process.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { BENCH_WINDOW, benchCollectContext, WorkerLikeStore } from './worker-like-state';

const [root, configDir] = process.argv.slice(2) as [string, string];
const digest = process.argv.includes('--digest');
const marks = process.argv.includes('--marks');
const { claudeCodeAdapter, claudeCodeConfigSchema } = await import(`${root}/packages/adapter-claude-code/dist/index.js`);
const { toUsageRows } = await import(`${root}/packages/core/dist/index.js`);
const { loadPriceRegistry } = await import(`${root}/packages/pricing/dist/index.js`);
const { priceRows } = await import(`${root}/apps/worker/src/cycle/price-rows.ts`);

const registry = await loadPriceRegistry({});
const silent = () => {};
const context = benchCollectContext(configDir, { debug: silent, info: silent, warn: silent, error: silent });
const window = BENCH_WINDOW;
const config = claudeCodeConfigSchema.parse({ instance: 'bench', watch: false });
const { state } = new WorkerLikeStore().open();

/** Each thread's CPU time so far (ns), by thread id. */
function threadTimes(): Map<string, number> {
  const times = new Map<string, number>();
  for (const thread of readdirSync('/proc/self/task')) {
    try {
      times.set(thread, Number(readFileSync(`/proc/self/task/${thread}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return times;
}

/** A phase's cost: wall, the process's CPU (all threads), this thread's CPU and the other threads' (ms). */
async function phase<T>(work: () => T): Promise<{ result: T; ms: number; cpuMs: number; mainThreadMs: number; otherThreadsMs: number }> {
  const threadsBefore = threadTimes();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = work();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  let mainThreadMs = 0;
  let otherThreadsMs = 0;
  for (const [thread, ns] of threadTimes()) {
    const spent = (ns - (threadsBefore.get(thread) ?? 0)) / 1e6;
    if (thread === String(process.pid)) mainThreadMs = spent;
    else otherThreadsMs += spent;
  }
  return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000, mainThreadMs, otherThreadsMs };
}

const round = (value: number) => Math.round(value * 10) / 10;
// The worker's copy (readCollectResult): the adapter's array is garbage once it is made.
let records: unknown[] | undefined = [...(await claudeCodeAdapter.collect(window, { ...context, config, state }))];
if (marks) process.stderr.write('--- collected\n');
const validated = await phase(() => toUsageRows(records, { sourceSystem: 'claude_code', defaultInstance: 'bench', window, where: (index: number) => `claude record ${index}` }));
records = undefined;
if (marks) process.stderr.write('--- validated\n');
const priced = await phase(() => priceRows(validated.result, registry));
if (marks) process.stderr.write('--- priced\n');
const output: Record<string, unknown> = {
  rows: priced.result.rows.length,
  unpriced: priced.result.unpriced.length,
  validateMs: round(validated.ms),
  validateCpuMs: round(validated.cpuMs),
  validateMainThreadMs: round(validated.mainThreadMs),
  validateOtherThreadsMs: round(validated.otherThreadsMs),
  priceMs: round(priced.ms),
  priceCpuMs: round(priced.cpuMs),
  priceMainThreadMs: round(priced.mainThreadMs),
  priceOtherThreadsMs: round(priced.otherThreadsMs),
};
if (digest) {
  const hash = createHash('md5');
  for (const row of priced.result.rows as Array<Record<string, unknown>>) {
    const columns = Object.keys(row)
      .sort()
      .map((key) => [key, row[key] instanceof Date ? (row[key] as Date).toISOString() : row[key]]);
    hash.update(`${JSON.stringify(columns)}\n`);
  }
  output.digest = hash.digest('hex');
}
process.stdout.write(`${JSON.stringify(output)}\n`);
