// Child process of run.ts: a cold full scan by utt's claude-code adapter with an
// empty state, then incremental cycles after 1 MB appended, on that state:
// first as a long-running worker runs them (its directory watches kept between
// cycles), then without the watches. Each cycle handles the state as utt's
// worker does: the keys the adapter loads are JSON-parsed from their stored
// text, the changed keys serialised after collect() (the database round trips
// themselves are not measured).
import { statSync } from 'node:fs';
import { discoverFiles } from '@utt/agent-logs';
import { claudeCodeAdapter, claudeCodeConfigSchema } from '@utt/adapter-claude-code';
import type { Logger, UsageRecordInput } from '@utt/core';
import { appendClaudeLines } from './append-claude-lines';
import { BENCH_WINDOW, benchCollectContext, WorkerLikeStore } from './worker-like-state';

const configDir = process.argv[2] as string;
const store = new WorkerLikeStore();
// The scan's phase times arrive in its debug line.
let scanFields: Record<string, unknown> = {};
const logger: Logger = {
  debug: (message, fields) => {
    if (message.endsWith('scanned transcripts')) scanFields = fields ?? {};
  },
  info: () => {},
  warn: () => {},
  error: () => {},
};
const context = benchCollectContext(configDir, logger);
const window = BENCH_WINDOW;
let cyclesRun = 0;
/** One worker-like cycle: load the state, collect, serialise the changes; times of each phase. */
const cycle = async (options: { watch?: boolean } = {}) => {
  const config = claudeCodeConfigSchema.parse({ instance: 'bench', watch: options.watch ?? true });
  if (cyclesRun > 0) {
    // Garbage left by the step before (the cold scan's buffers, the appended
    // lines) is collected first, and the collector's background threads are
    // given time to finish, as they have between the cycles of a worker
    // (minutes apart): neither is billed to this cycle.
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  cyclesRun += 1;
  const started = performance.now();
  const { state, loaded, save } = store.open();
  const records = (await claudeCodeAdapter.collect(window, { ...context, config, state })) as readonly UsageRecordInput[];
  const collected = performance.now();
  const written = save();
  const ended = performance.now();
  const { discoverMs, statMs, readMs, ledgerMs, filesStatted } = scanFields as Record<string, number>;
  return { records, ms: ended - started, ...loaded(), collectMs: collected - started, saveMs: ended - collected, ...written, scan: { discoverMs, statMs, readMs, ledgerMs, filesStatted } };
};
const totals = (records: readonly UsageRecordInput[]) => {
  const sum = (column: keyof UsageRecordInput) => records.reduce((total, record) => total + ((record[column] as number | null) ?? 0), 0);
  return {
    inputTokens: sum('input_tokens'),
    outputTokens: sum('output_tokens'),
    cacheReadTokens: sum('cached_read_tokens'),
    cacheCreationTokens: sum('cached_write_tokens'),
    cacheCreation1hTokens: sum('cached_write_1h_tokens'),
    requests: sum('requests'),
  };
};

const cold = await cycle();
// Since the process started: Node and tsx start-up, loading the modules, and the cold cycle.
const coldProcessMs = performance.now();
const coldRss = process.resourceUsage().maxRSS;
const stateBytes = store.bytes;
const stateKeys = store.keyCount;

const { files } = await discoverFiles([`${configDir}/projects`], (file) => file.endsWith('.jsonl'));
const rounds = Number(process.env.BENCH_INCREMENTAL_ROUNDS ?? 5);
const appends: Array<ReturnType<typeof appendClaudeLines>> = [];
const phases = (run: Awaited<ReturnType<typeof cycle>>) => ({
  ms: run.ms,
  loadMs: run.loadMs,
  keysLoaded: run.keysLoaded,
  collectMs: run.collectMs,
  saveMs: run.saveMs,
  keysWritten: run.keysWritten,
  bytesWritten: run.bytesWritten,
  rows: run.records.length,
  scan: run.scan,
});
try {
  // As `utt daemon` runs: an idle cycle (nothing appended), then rounds of
  // 1 MB appended and a cycle. The first round also adds a project directory
  // and a session file; later rounds only append.
  const idle = await cycle();
  const incremental: Array<Awaited<ReturnType<typeof cycle>>> = [];
  for (let round = 0; round < rounds; round += 1) {
    appends.push(appendClaudeLines(files, 1_000_000, 20, round));
    const run = await cycle();
    // New responses come back as rows; none means the data set already held them.
    if (run.records.length === 0) throw new Error(`round ${round} found no new usage: delete ${configDir} (left over from an interrupted run?) to generate it again`);
    incremental.push(run);
  }
  // Without the watches (a one-shot `utt run`, or `watch: false`): every file gets a stat.
  const unwatchedIdle = await cycle({ watch: false });
  appends.push(appendClaudeLines(files, 1_000_000, 20, rounds));
  const unwatched = await cycle({ watch: false });
  // The floor of any cycle that must look at every file: one stat each, and nothing else.
  const statFloorMs = Math.min(
    ...Array.from({ length: 3 }, () => {
      const started = performance.now();
      for (const file of files) statSync(file, { throwIfNoEntry: false });
      return performance.now() - started;
    }),
  );
  process.stdout.write(
    `${JSON.stringify({
      coldMs: cold.ms,
      coldProcessMs,
      cold: phases(cold),
      coldTotals: totals(cold.records),
      coldMaxRssKb: coldRss,
      stateBytes,
      stateKeys,
      idle: phases(idle),
      appendedBytes: appends[0]?.bytesWritten,
      incremental: incremental.map(phases),
      incrementalTotals: totals(incremental[0]?.records ?? []),
      unwatchedIdle: phases(unwatchedIdle),
      unwatched: phases(unwatched),
      statFloorMs,
      maxRssKb: process.resourceUsage().maxRSS,
    })}\n`,
  );
} finally {
  for (const appended of appends.reverse()) appended.restore();
}
