import type { UsageStore } from '@utt/postgres';
import { workerPriceLoader } from '../pricing/worker-price-registry';
import type { Runtime } from '../runtime';
import { collectSource, type SourceRunResult } from './collect-source';
import type { PreparedSource } from './prepare-sources';
import { collectQuota, type QuotaRunResult } from '../quota/collect-quota';
import { ingestStatuslineSpools } from '../quota/statusline-spool';

export type CycleResult = {
  readonly sources: readonly SourceRunResult[];
  /** Quota readings of the sources whose adapter reads quota (not on a backfill). */
  readonly quota?: readonly QuotaRunResult[];
  readonly startedAt: Date;
  readonly durationMs: number;
};

/**
 * One cycle: every prepared source in turn (one source failing never stops
 * the others), then the worker's own heartbeat row.
 */
export async function runCycle(
  runtime: Runtime,
  store: UsageStore,
  prepared: readonly PreparedSource[],
  options: { signal: AbortSignal; now?: Date; range?: { since: Date; until?: Date }; fetch?: typeof globalThis.fetch },
): Promise<CycleResult> {
  const startedAt = options.now ?? new Date();
  // Measured on the real clock: `--now` moves the collection time, not how long the cycle took.
  const clockStart = Date.now();
  const results: SourceRunResult[] = [];
  // The prices file is read and checked now; the bundled data only when a source needs a price.
  const pricing = await workerPriceLoader(runtime);
  const fetch = options.fetch ?? lazyGlobalFetch;
  for (const source of prepared) {
    if (options.signal.aborted) break;
    results.push(
      await collectSource({
        prepared: source,
        store,
        worker: runtime.loaded.config.worker,
        pricing,
        env: runtime.env,
        fetch,
        logger: runtime.logger,
        secrets: runtime.loaded.secrets,
        signal: options.signal,
        now: options.now ?? new Date(),
        range: options.range,
      }),
    );
  }
  const quota =
    options.range || options.signal.aborted
      ? []
      : await collectQuota({
          prepared,
          store,
          worker: runtime.loaded.config.worker,
          env: runtime.env,
          fetch,
          logger: runtime.logger,
          secrets: runtime.loaded.secrets,
          signal: options.signal,
          now: options.now ?? new Date(),
        });
  if (!options.range) {
    await ingestStatuslineSpools(runtime, store).catch((error: unknown) =>
      runtime.logger.warn('could not store the statusline readings', { error: error instanceof Error ? error.message : String(error) }),
    );
  }
  await store.heartbeat(new Date());
  return { sources: results, quota, startedAt, durationMs: Date.now() - clockStart };
}

/**
 * The global fetch, looked up when a request is made: on Node 20 reading
 * `globalThis.fetch` loads undici (about 15 ms), which a cycle of local files
 * never needs.
 */
const lazyGlobalFetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init);

/** 0: every source succeeded (or is paused); 2: some failed, the others were written. */
export function cycleExitCode(result: CycleResult): 0 | 2 {
  return result.sources.some((source) => source.status === 'error') || result.quota?.some((quota) => quota.status === 'error') ? 2 : 0;
}
