import { createHttpClient, createStagedState, type Logger, parseQuotaReading, redactSecrets, UttError, VERSION } from '@utt/core';
import { quotaStatusSource, type UsageStore } from '@utt/postgres';
import type { WorkerConfig } from '../config/worker-config-schema';
import type { PreparedSource } from '../cycle/prepare-sources';
import { withPrefix } from '../output/console-logger';

export type QuotaRunResult = {
  readonly name: string;
  readonly status: 'ok' | 'error';
  readonly readings: number;
  readonly stored: number;
  readonly error?: string;
};

/**
 * Asks every prepared source whose adapter can read quota, and writes each
 * source's readings, its collector state (call gates) and its `quota:<name>`
 * status in one transaction. A source that fails is recorded as failing; its
 * last readings stay and turn stale. Paused sources are not asked.
 */
export async function collectQuota(options: {
  prepared: readonly PreparedSource[];
  store: UsageStore;
  worker: WorkerConfig['worker'];
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof globalThis.fetch;
  logger: Logger;
  secrets: ReadonlySet<string>;
  signal: AbortSignal;
  now: Date;
}): Promise<QuotaRunResult[]> {
  const results: QuotaRunResult[] = [];
  for (const { source, adapter, adapterConfig } of options.prepared) {
    if (!adapter.collectQuota || source.paused || options.signal.aborted) continue;
    const statusSource = quotaStatusSource(source.name);
    try {
      const logger = withPrefix(options.logger, `${source.name} quota`);
      const staged = createStagedState(await options.store.loadSourceState(statusSource));
      const context = {
        config: adapterConfig,
        http: createHttpClient({
          fetch: options.fetch,
          deadlineMs: options.worker.httpDeadline,
          retryBudgetMs: options.worker.httpRetryBudget,
          signal: options.signal,
          logger,
          userAgent: `utt-worker/${VERSION} (${adapter.id})`,
        }),
        fetch: options.fetch,
        env: options.env,
        logger,
        signal: options.signal,
        now: () => options.now,
        sourceName: source.name,
        state: staged.state,
      };
      const readings = (await adapter.collectQuota(context)).map((reading, index) =>
        parseQuotaReading(reading, { source: source.name, where: `${source.name} quota reading ${index}` }),
      );
      const changes = staged.changes();
      // Nothing read and nothing to remember (quota not configured, or a call gate still closed): write nothing,
      // so sources that do not read quota get no quota:<name> row.
      if (readings.length === 0 && changes.set.size === 0 && changes.deleted.length === 0) continue;
      const { stored } = await options.store.writeQuotaReadings({
        source: source.name,
        sourceSystem: adapter.sourceSystem,
        readings,
        state: changes,
        now: options.now,
      });
      results.push({ name: source.name, status: 'ok', readings: readings.length, stored });
    } catch (error) {
      if (options.signal.aborted) throw error;
      const message = redactSecrets(UttError.isInstance(error) ? error.message : error instanceof Error ? error.message : String(error), options.secrets);
      await options.store.recordSourceStatus({ source: statusSource, sourceSystem: adapter.sourceSystem, status: 'error', error: message, now: options.now });
      results.push({ name: source.name, status: 'error', readings: 0, stored: 0, error: message });
    }
  }
  return results;
}
