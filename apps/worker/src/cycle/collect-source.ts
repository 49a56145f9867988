import {
  alignWindow,
  ceilToBucket,
  createHttpClient,
  createStagedState,
  floorToBucket,
  type Logger,
  planCollectionWindow,
  readCollectResult,
  redactSecrets,
  type TimeWindow,
  toProviderCostRow,
  toUsageRows,
  type UsageRow,
  UttError,
  VERSION,
} from '@utt/core';
import type { ReplacedWindow, UsageStore } from '@utt/postgres';
import type { PriceRegistry } from '@utt/pricing';
import type { WorkerConfig } from '../config/worker-config-schema';
import { withPrefix } from '../output/console-logger';
import { checkEchoedSecrets } from './check-echoed-secrets';
import { needsPrice } from './needs-price';
import type { PreparedSource } from './prepare-sources';

export type SourceRunStatus = 'ok' | 'error' | 'paused';

export type SourceRunResult = {
  readonly name: string;
  readonly sourceSystem: string;
  readonly status: SourceRunStatus;
  readonly window: TimeWindow | null;
  readonly rowsWritten: number;
  readonly unpricedRows: number;
  readonly durationMs: number;
  readonly error?: string;
};

export type SourceRunOptions = {
  readonly prepared: PreparedSource;
  readonly store: UsageStore;
  readonly worker: WorkerConfig['worker'];
  /** The worker's price registry, loaded (once) when first asked for: before collect() for an adapter that uses a pricer, else only when rows need a price. */
  readonly pricing: () => Promise<PriceRegistry>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof globalThis.fetch;
  readonly logger: Logger;
  readonly secrets: ReadonlySet<string>;
  readonly signal: AbortSignal;
  readonly now: Date;
  /** A backfill: collect exactly [since, until) instead of planning from the watermark. */
  readonly range?: { readonly since: Date; readonly until?: Date };
};

const DAY_MS = 86_400_000;

/**
 * One source, one window: plan it from the watermark, collect, validate every
 * record, price what has no cost, and write rows, watermark and status in one
 * transaction (invariant 12). A failure is recorded on the source's status row
 * and returned; it never stops the other sources.
 */
export async function collectSource(options: SourceRunOptions): Promise<SourceRunResult> {
  const { prepared, store, worker, now } = options;
  const { source, adapter } = prepared;
  const startedAt = Date.now();
  const base = { name: source.name, sourceSystem: adapter.sourceSystem };

  if (source.paused) {
    await store.recordSourceStatus({ source: source.name, sourceSystem: adapter.sourceSystem, status: 'paused', now });
    return { ...base, status: 'paused', window: null, rowsWritten: 0, unpricedRows: 0, durationMs: 0 };
  }

  let window: TimeWindow | null = null;
  try {
    const capabilityMs = adapter.capabilities.maxBackfillDays === null ? Infinity : adapter.capabilities.maxBackfillDays * DAY_MS;
    const maxBackfillMs = Math.min(source.maxBackfill ?? worker.maxBackfill, capabilityMs);
    let nextWatermark: Date | null = null;
    if (options.range) {
      const until = options.range.until && options.range.until < now ? options.range.until : now;
      window = alignWindow(options.range.since, until, prepared.granularity);
      if (adapter.capabilities.windowed && now.getTime() - window.start.getTime() > capabilityMs) {
        options.logger.warn(`${source.name}: ${adapter.id} keeps ${adapter.capabilities.maxBackfillDays} days of history; older buckets may come back empty`);
      }
      const existing = await store.getWatermark(source.name);
      const reached = floorToBucket(until, prepared.granularity);
      if (existing === null || reached > existing) nextWatermark = reached;
    } else {
      const plan = planCollectionWindow({
        now,
        granularity: prepared.granularity,
        watermark: adapter.capabilities.windowed ? await store.getWatermark(source.name) : null,
        settleMs:
          source.settle ??
          (adapter.capabilities.defaultSettleHours === undefined ? worker.settle : adapter.capabilities.defaultSettleHours * 3_600_000),
        maxBackfillMs,
      });
      if (plan.truncated) {
        options.logger.warn(`${source.name}: the gap since the last watermark is longer than maxBackfill; collecting from ${plan.window.start.toISOString()}`);
      }
      window = plan.window;
      nextWatermark = plan.nextWatermark;
    }

    const sourceLogger = withPrefix(options.logger, source.name);
    // A source has a time budget for the whole of its collection, however many calls it makes.
    const budgetMs = source.timeBudget ?? worker.sourceTimeBudget;
    const budget = AbortSignal.timeout(budgetMs);
    const sourceSignal = AbortSignal.any([options.signal, budget]);
    const staged = createStagedState(
      adapter.capabilities.stateLoading === 'on-demand'
        ? (selection) => store.loadSourceState(source.name, selection)
        : await store.loadSourceState(source.name),
    );
    const context = {
      config: prepared.adapterConfig,
      http: createHttpClient({
        fetch: options.fetch,
        deadlineMs: worker.httpDeadline,
        retryBudgetMs: worker.httpRetryBudget,
        maxResponseBytes: worker.httpMaxResponseSize,
        signal: sourceSignal,
        logger: sourceLogger,
        userAgent: `utt-worker/${VERSION} (${adapter.id})`,
      }),
      fetch: options.fetch,
      env: options.env,
      logger: sourceLogger,
      signal: sourceSignal,
      now: () => now,
      sourceName: source.name,
      configDirectory: prepared.configDirectory,
      state: staged.state,
      ...(adapter.capabilities.usesPricer === false ? {} : { pricer: await createPricerOf(options.pricing) }),
    };

    const overBudget = () =>
      new SourceTimeBudgetError(
        `collecting took longer than its time budget of ${formatDuration(budgetMs)} (${source.timeBudget === undefined ? 'worker.sourceTimeBudget' : `sources.${source.name}.timeBudget`}); nothing of this cycle was written`,
      );
    // A backfill of a source that leaves cost to the worker has rows to price
    // (unless its range is empty): the registry is loaded while collect()
    // runs, which for the file adapters is mostly waiting on their reading
    // threads, instead of after it. Its error, if any, is met where it always
    // was: at the await below (the same promise).
    if (options.range && adapter.capabilities.costSource === 'none' && adapter.capabilities.usesPricer === false) {
      prefetchPricing(options.pricing);
    }
    const collectStarted = performance.now();
    let collected: number;
    let validateCpu: NodeJS.CpuUsage;
    let rows: UsageRow[];
    {
      // Only the rows outlive this block: the adapter's records are garbage before pricing and the write.
      const records = await withinBudget(readCollectResult(adapter.collect(window, context)), budget, overBudget);
      collected = performance.now();
      validateCpu = process.cpuUsage();
      rows = toUsageRows(records, {
        sourceSystem: adapter.sourceSystem,
        defaultInstance: source.instance ?? source.name,
        window: adapter.capabilities.windowed ? window ?? undefined : undefined,
        where: (index) => `${source.name} record ${index}`,
      });
    }
    const providerCosts = adapter.collectProviderCosts
      ? (await withinBudget(Promise.resolve(adapter.collectProviderCosts(window, context)), budget, overBudget)).map((record, index) =>
          toProviderCostRow(record, {
            sourceSystem: adapter.sourceSystem,
            defaultInstance: source.instance ?? source.name,
            window: adapter.capabilities.windowed ? window ?? undefined : undefined,
            where: `${source.name} provider cost ${index}`,
          }),
        )
      : [];
    // SIGTERM semantics: a source still collecting when the signal came writes
    // nothing; once its write has begun, the write completes (see the daemon).
    options.signal.throwIfAborted();
    const validated = performance.now();
    const validateCpuMs = cpuMs(process.cpuUsage(validateCpu));
    // Loaded here only when a row needs a price (and before collect() for an adapter that prices): a cycle that finds nothing new loads nothing.
    const pricing = rows.some(needsPrice) ? { registry: await options.pricing(), priceRows: (await import('./price-rows')).priceRows } : undefined;
    const registryLoaded = performance.now();
    const priceCpu = process.cpuUsage();
    checkEchoedSecrets(source.name, rows, providerCosts, options.secrets);
    // Without a row to price, priceRows would only list the rows the adapter left without a cost (each with its reason).
    const priced = pricing ? pricing.priceRows(rows, pricing.registry) : { rows, unpriced: rows.filter((row) => row.cost_usd === null) };
    const pricedAt = performance.now();
    const priceCpuMs = cpuMs(process.cpuUsage(priceCpu));
    const writeCpu = process.cpuUsage();
    const replace = adapter.capabilities.windowed
      ? replacedWindow(window, capabilityMs, now, source.instance ?? source.name, rows, Boolean(adapter.collectProviderCosts))
      : undefined;
    const state = staged.changes();
    const watermark = adapter.capabilities.windowed && nextWatermark ? { at: nextWatermark, granularity: prepared.granularity } : undefined;
    // A cycle that found nothing new (a file-based source whose files are
    // unchanged) has only its status to write: one statement rather than the
    // transaction's four round trips, the same row.
    const nothingNew =
      priced.rows.length === 0 && providerCosts.length === 0 && state.set.size === 0 && state.deleted.length === 0 && !replace && !watermark;
    const { rowsWritten } = nothingNew
      ? await store.recordSourceSuccess({ source: source.name, sourceSystem: adapter.sourceSystem, rowsWritten: 0, now }).then(() => ({ rowsWritten: 0 }))
      : await store.writeSourceWindow({
          replace,
          source: source.name,
          sourceSystem: adapter.sourceSystem,
          rows: priced.rows,
          providerCosts,
          state,
          watermark,
          status: { status: 'ok' },
          now,
        });
    // The work per row after collecting, phase by phase (`--log-level debug`; bench/agent-logs reads it).
    sourceLogger.debug('wrote the window', {
      records: rows.length,
      rowsWritten,
      collectMs: round(collected - collectStarted),
      validateMs: round(validated - collected),
      priceMs: round(pricedAt - registryLoaded),
      // This process's CPU time in validating and in pricing (all its threads): steadier than the wall times on a busy machine.
      validateCpuMs: round(validateCpuMs),
      priceCpuMs: round(priceCpuMs),
      // Loading the price registry when this source was the first to need it (not part of the work per row).
      loadPricesMs: round(registryLoaded - validated),
      writeMs: round(performance.now() - pricedAt),
      // This process's own work in the write (building and sending the statements), without the wait for the database.
      writeCpuMs: round(cpuMs(process.cpuUsage(writeCpu))),
    });
    return {
      ...base,
      status: 'ok',
      window: adapter.capabilities.windowed ? window : null,
      rowsWritten,
      unpricedRows: priced.unpriced.length,
      durationMs: Date.now() - startedAt,
    };
  } catch (error) {
    if (options.signal.aborted) throw error;
    const message = redactSecrets(describeError(error), options.secrets);
    await store.recordSourceStatus({ source: source.name, sourceSystem: adapter.sourceSystem, status: 'error', error: message, now });
    return {
      ...base,
      status: 'error',
      window: adapter.capabilities.windowed ? window : null,
      rowsWritten: 0,
      unpricedRows: 0,
      durationMs: Date.now() - startedAt,
      error: message,
    };
  }
}

/**
 * What a windowed source re-collected completely: its window, but never
 * further back than the provider keeps history (an old backfill that comes
 * back empty must not delete what was stored while the provider still had it).
 */
function replacedWindow(
  window: TimeWindow,
  capabilityMs: number,
  now: Date,
  defaultInstance: string,
  rows: readonly UsageRow[],
  hasProviderCosts: boolean,
): ReplacedWindow | undefined {
  const earliest = Number.isFinite(capabilityMs) ? ceilToBucket(new Date(now.getTime() - capabilityMs), window.granularity) : window.start;
  const start = window.start > earliest ? window.start : earliest;
  if (start >= window.end) return undefined;
  const sourceInstances = new Set([defaultInstance]);
  for (const row of rows) sourceInstances.add(row.source_instance);
  return {
    start,
    end: window.end,
    granularity: window.granularity,
    sourceInstances: [...sourceInstances],
    costDays: hasProviderCosts ? { start: ceilToBucket(start, 'day'), end: floorToBucket(window.end, 'day') } : undefined,
  };
}

/** Starts loading the registry and priceRows' module now; their outcome is awaited (and any error reported) where they are used. */
function prefetchPricing(pricing: () => Promise<PriceRegistry>): void {
  pricing().catch(() => undefined);
  import('./price-rows').catch(() => undefined);
}

/** The pricer of an adapter that prices its own records; @utt/pricing is loaded with the registry, not before. */
async function createPricerOf(pricing: () => Promise<PriceRegistry>) {
  const registry = await pricing();
  const { createPricer } = await import('@utt/pricing');
  return createPricer(registry);
}

class SourceTimeBudgetError extends UttError {
  constructor(message: string) {
    super({ name: 'UTT_SourceTimeBudgetError', message });
  }
}

/**
 * `work`, or the budget's error as soon as the budget runs out: an adapter
 * that ignores its abort signal (a busy parser, a stuck file read) cannot hold
 * up the cycle. Its abandoned work writes nothing: only the worker writes.
 */
function withinBudget<T>(work: Promise<T>, budget: AbortSignal, overBudget: () => Error): Promise<T> {
  if (budget.aborted) return Promise.reject(overBudget());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(overBudget());
    budget.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        budget.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        budget.removeEventListener('abort', onAbort);
        reject(budget.aborted ? overBudget() : error);
      },
    );
  });
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

function describeError(error: unknown): string {
  if (UttError.isInstance(error)) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
