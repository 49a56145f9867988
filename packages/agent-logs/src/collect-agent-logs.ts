import path from 'node:path';
import type { UsageAdapterV1Context, UsageRecordInput } from '@utt/core';
import type { AgentLogConfig } from './agent-log-config';
import { defaultSourceInstance } from './default-instance';
import { findEarlierMachineName } from './renamed-machine';
import { type ScanTranscriptsResult, scanTranscripts } from './scan-transcripts';
import type { TranscriptFormat } from './transcript-format';
import { TranscriptWatch } from './transcript-watch';
import type { LedgerCell } from './usage-ledger';

export type CollectAgentLogsOptions = {
  /** The adapter id, first segment of every state key. */
  readonly agent: string;
  /** token_usage.provider of the rows. */
  readonly provider: string;
  readonly format: TranscriptFormat;
  /** The agent's default locations, used when config.paths is not set. */
  readonly defaultRoots: (env: Readonly<Record<string, string | undefined>>) => string[];
};

/**
 * The whole collect() of a coding-agent adapter: scan incrementally (through
 * context.state when the worker provides it, else a full scan), and turn the
 * touched hours into token_usage records for this machine.
 */
export async function collectAgentLogs(
  context: UsageAdapterV1Context<AgentLogConfig>,
  options: CollectAgentLogsOptions,
): Promise<{ records: UsageRecordInput[]; scan: ScanTranscriptsResult }> {
  const config = context.config;
  const machine = config.instance ?? defaultSourceInstance(context.env);
  // Relative paths mean the config file's folder, as for every other file a config names.
  const roots = config.paths?.map((root) => path.resolve(context.configDirectory ?? '.', root)) ?? options.defaultRoots(context.env);
  const agentPrefix = `${options.agent}/`;
  const namespace = agentPrefix + machine;
  const scan = await scanTranscripts({
    roots,
    format: options.format,
    state: context.state,
    namespace,
    // A machine named by default whose name changed (a laptop's host name
    // follows its network) goes on as its earlier name, rather than read every
    // transcript again under the new one and count it all twice. A configured
    // instance is taken as it is.
    continueFrom:
      config.instance === undefined && context.state
        ? async (state) => {
            const earlier = await findEarlierMachineName(state, {
              agentPrefix,
              candidatePrefix: namespace.slice(0, namespace.lastIndexOf('@') + 1) || agentPrefix,
              namespace,
              roots,
            });
            if (earlier === undefined) return undefined;
            const name = earlier.namespace.slice(agentPrefix.length);
            context.logger.info(
              `${options.agent}: this machine name changed from ${name} to ${machine}; continuing as ${name}, whose transcripts these are (of its files looked at, ${earlier.matching} of the ${earlier.present} still here are the same files). To keep one name whatever the host name, add "instance: ${name}" to this source's config.`,
            );
            return earlier.namespace;
          }
        : undefined,
    // Only a state that outlives the cycle makes a watch worth keeping.
    watch: config.watch && context.state ? watchFor(`${namespace}\n${roots.join('\n')}`) : undefined,
    retentionDays: config.retentionDays,
    now: context.now(),
    signal: context.signal,
    logger: context.logger,
  });
  const { statistics } = scan;
  context.logger.debug(`${options.agent}: scanned transcripts`, {
    files: statistics.files,
    filesStatted: statistics.filesStatted,
    filesRead: statistics.filesRead,
    filesReset: statistics.filesReset,
    bytesRead: statistics.bytesRead,
    events: statistics.events,
    duplicates: statistics.duplicates,
    sealed: statistics.sealed,
    malformed: statistics.malformed,
    cells: scan.cells.length,
    threads: statistics.threads,
    ...Object.fromEntries(Object.entries(statistics.timings).map(([phase, ms]) => [phase, Math.round(ms)])),
  });
  if (statistics.files === 0 && statistics.missingRoots.length > 0) {
    context.logger.info(`${options.agent}: no transcripts found`, { looked: statistics.missingRoots.join(', ') });
  }
  const instance = scan.namespace.slice(agentPrefix.length);
  return { records: toAgentUsageRecords(scan.cells, { provider: options.provider, instance, config }), scan };
}

// One watch per namespace and roots, kept for the life of the process: a
// daemon's cycles share it; a one-shot run leaves it behind unused (it does
// not keep the process alive).
const watches = new Map<string, TranscriptWatch>();

function watchFor(key: string): TranscriptWatch {
  let watch = watches.get(key);
  if (!watch) {
    watch = new TranscriptWatch();
    watches.set(key, watch);
  }
  return watch;
}

/** Ledger cells as token_usage records: hourly, exact, priced later by the worker. */
export function toAgentUsageRecords(
  cells: readonly LedgerCell[],
  options: { provider: string; instance: string; config: Pick<AgentLogConfig, 'billing' | 'labels' | 'sessionLabel'> },
): UsageRecordInput[] {
  const extra: Record<string, string> = { ...options.config.labels };
  if (options.config.billing === 'subscription') extra.billing = 'subscription';
  // A cell is a row of its own unless dropping its session label, a label
  // left empty or the labels added here can make it another cell's twin: then
  // rows are merged by key.
  const merging = !options.config.sessionLabel || Object.keys(extra).length > 0 || cells.some((cell) => Object.values(cell.labels).includes(''));
  const merged = new Map<string, UsageRecordInput>();
  const records: UsageRecordInput[] = [];
  // Cells of one model and labels share their labels object (the ledger's
  // cells()): so do their records, which spares an object per row and lets
  // the later steps recognise labels they have seen.
  const labelsOf = new Map<object, Record<string, string>>();
  for (const cell of cells) {
    let labels = labelsOf.get(cell.labels);
    if (labels === undefined) {
      labels = { ...extra };
      for (const [key, value] of Object.entries(cell.labels)) {
        if (key === 'session' && !options.config.sessionLabel) continue;
        if (value !== '') labels[key] = value;
      }
      labelsOf.set(cell.labels, labels);
    }
    // Read by index, not destructured: destructuring goes through the array's
    // iterator, seven steps a cell, and TurboFan took 28 ms compiling this loop
    // with them, on the thread that compiles validation's code next.
    const tokens = cell.tokens;
    const record: UsageRecordInput = {
      source_instance: options.instance,
      granularity: 'hour',
      bucket_start: cell.bucketStart,
      provider: options.provider,
      model: cell.model,
      labels,
      input_tokens: tokens[0],
      output_tokens: tokens[1],
      cached_read_tokens: tokens[2],
      cached_write_tokens: tokens[3],
      cached_write_1h_tokens: tokens[4],
      reasoning_tokens: tokens[5],
      requests: tokens[6],
      measurement_basis: 'exact',
    };
    if (!merging) {
      records.push(record);
      continue;
    }
    const key = JSON.stringify([cell.bucketStart.getTime(), cell.model, Object.entries(labels).sort()]);
    const existing = merged.get(key);
    if (existing) {
      for (const column of ['input_tokens', 'output_tokens', 'cached_read_tokens', 'cached_write_tokens', 'cached_write_1h_tokens', 'reasoning_tokens', 'requests'] as const) {
        const value = record[column];
        if (value !== null && value !== undefined) existing[column] = (existing[column] ?? 0) + value;
      }
      continue;
    }
    merged.set(key, record);
    records.push(record);
  }
  return records;
}
