// Child process of run.ts: a cold full scan by utt's claude-code adapter with an
// empty state, then 1 MB appended and an incremental cycle on that state. Each
// cycle handles the state as utt's worker does: the keys the adapter loads are
// JSON-parsed from their stored text, the changed keys serialised after
// collect() (the database round trips themselves are not measured).
import { statSync } from 'node:fs';
import { discoverFiles } from '@utt/agent-logs';
import { claudeCodeAdapter, claudeCodeConfigSchema } from '@utt/adapter-claude-code';
import type { Logger, UsageRecordInput } from '@utt/core';
import { appendClaudeLines } from './append-claude-lines';
import { WorkerLikeStore } from './worker-like-state';

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
const context = {
  config: claudeCodeConfigSchema.parse({ instance: 'bench' }),
  env: { CLAUDE_CONFIG_DIR: configDir },
  logger,
  signal: new AbortController().signal,
  now: () => new Date('2026-11-15T12:00:00Z'),
  sourceName: 'bench',
  http: undefined as never,
  fetch: globalThis.fetch,
};
const window = { start: new Date(0), end: new Date('2027-01-01T00:00:00Z'), granularity: 'hour' as const };
/** One worker-like cycle: load the state, collect, serialise the changes; times of each phase. */
const cycle = async () => {
  // Garbage left by the step before (the cold scan's buffers, the appended lines) is collected first, not billed to this cycle.
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const { state, loaded, save } = store.open();
  const records = (await claudeCodeAdapter.collect(window, { ...context, state })) as readonly UsageRecordInput[];
  const collected = performance.now();
  const written = save();
  const ended = performance.now();
  const { discoverMs, statMs, readMs, ledgerMs } = scanFields as Record<string, number>;
  return { records, ms: ended - started, ...loaded(), collectMs: collected - started, saveMs: ended - collected, ...written, scan: { discoverMs, statMs, readMs, ledgerMs } };
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
const coldRss = process.resourceUsage().maxRSS;
const stateBytes = store.bytes;
const stateKeys = store.keyCount;

const { files } = await discoverFiles([`${configDir}/projects`], (file) => file.endsWith('.jsonl'));
// An idle cycle first (nothing appended): the floor of every later cycle.
const idle = await cycle();
const appended = appendClaudeLines(files, 1_000_000);
try {
  const incremental = await cycle();
  // The floor of any cycle that must look at every file: one stat each, and nothing else.
  const statFloorMs = Math.min(
    ...Array.from({ length: 3 }, () => {
      const started = performance.now();
      for (const file of files) statSync(file, { throwIfNoEntry: false });
      return performance.now() - started;
    }),
  );
  const phases = (run: Awaited<ReturnType<typeof cycle>>) => ({
    loadMs: run.loadMs,
    keysLoaded: run.keysLoaded,
    collectMs: run.collectMs,
    saveMs: run.saveMs,
    keysWritten: run.keysWritten,
    bytesWritten: run.bytesWritten,
    scan: run.scan,
  });
  process.stdout.write(
    `${JSON.stringify({
      coldMs: cold.ms,
      cold: phases(cold),
      coldRows: cold.records.length,
      coldTotals: totals(cold.records),
      coldMaxRssKb: coldRss,
      stateBytes,
      stateKeys,
      idleMs: idle.ms,
      idle: phases(idle),
      appendedBytes: appended.bytesWritten,
      incrementalMs: incremental.ms,
      incremental: phases(incremental),
      incrementalRows: incremental.records.length,
      incrementalTotals: totals(incremental.records),
      statFloorMs,
      maxRssKb: process.resourceUsage().maxRSS,
    })}\n`,
  );
} finally {
  appended.restore();
}
