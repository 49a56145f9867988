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
  type UsageRecordInput,
  type UsageRow,
  UttError,
  VERSION,
} from '@utt/core';
import type { ReplacedWindow, StartedSourceWrite, UsageStore } from '@utt/postgres';
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
  // The write, once started (before validation): rolled back by any failure until it is finished.
  let started: StartedSourceWrite | undefined;
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
    let writeStarted: number;
    let validateCpu: NodeJS.CpuUsage;
    let rows: UsageRow[];
    let ahead: RowsSentAhead = NOTHING_AHEAD;
    {
      // Only the rows outlive this block: the adapter's records are garbage before pricing and the write.
      const records = await withinBudget(readCollectResult(adapter.collect(window, context)), budget, overBudget);
      collected = performance.now();
      // A large write (a cold backfill) opens its transaction now, with
      // collect() done and no provider costs to collect after it: on a
      // source_system's first write its rows then go to PostgreSQL a chunk at
      // a time as they are validated and priced, and the database inserts one
      // chunk while this process prepares the next. A small write, and a
      // cycle that found nothing new, are written as before, below.
      if (!adapter.collectProviderCosts && records.length > ROWS_PER_CHUNK) {
        started = store.startSourceWrite({
          source: source.name,
          sourceSystem: adapter.sourceSystem,
          sourceInstances: expectedInstances(records, source.instance ?? source.name),
        });
        await started.opened;
      }
      writeStarted = performance.now();
      validateCpu = process.cpuUsage();
      const rowOptions = {
        sourceSystem: adapter.sourceSystem,
        defaultInstance: source.instance ?? source.name,
        window: adapter.capabilities.windowed ? window ?? undefined : undefined,
        where: (index: number) => `${source.name} record ${index}`,
      };
      if (started?.sendsRowsAhead()) {
        ({ rows, ahead } = await validateSendingAhead(records, rowOptions, {
          write: started,
          signal: options.signal,
          holdsEchoedSecret: (chunk) => {
            try {
              checkEchoedSecrets(source.name, chunk, [], options.secrets);
              return false;
            } catch {
              return true;
            }
          },
          pricing: options.pricing,
        }));
      } else {
        rows = toUsageRows(records, rowOptions);
      }
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
    // Rows sent ahead are not its beginning: until finish() they are rolled back.
    options.signal.throwIfAborted();
    const validated = performance.now();
    // With rows sent ahead, validation's own time; the rest of this stretch (its turns of the event loop) went to the write's statements.
    const stretchCpuMs = cpuMs(process.cpuUsage(validateCpu));
    const validateCpuMs = ahead === NOTHING_AHEAD ? stretchCpuMs : ahead.validateCpuMs;
    const aheadWriteCpuMs = ahead === NOTHING_AHEAD ? 0 : stretchCpuMs - ahead.validateCpuMs - ahead.priceCpuMs;
    // Rows priced and sent ahead are done; the others (all of them, when none went ahead) are priced here, in the usual order.
    const rest = ahead.pricedUpTo === 0 ? rows : rows.slice(ahead.pricedUpTo);
    // Loaded here only when a row needs a price (and before collect() for an adapter that prices): a cycle that finds nothing new loads nothing.
    const pricing = rest.some(needsPrice) ? { registry: await options.pricing(), priceRows: (await import('./price-rows')).priceRows } : undefined;
    const registryLoaded = performance.now();
    const priceCpu = process.cpuUsage();
    checkEchoedSecrets(source.name, rows, providerCosts, options.secrets);
    // Without a row to price, priceRows would only list the rows the adapter left without a cost (each with its reason).
    const pricedRest = pricing ? pricing.priceRows(rest, pricing.registry) : { unpriced: rest.filter((row) => row.cost_usd === null) };
    const priced = { rows, unpriced: ahead.unpriced.length === 0 ? pricedRest.unpriced : ahead.unpriced.concat(pricedRest.unpriced) };
    const pricedAt = performance.now();
    const priceCpuMs = cpuMs(process.cpuUsage(priceCpu)) + ahead.priceCpuMs;
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
    const { rowsWritten } = started
      ? await started.finish({ replace, rows: priced.rows, providerCosts, state, watermark, status: { status: 'ok' }, now })
      : nothingNew
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
      // Opening the write's transaction before validation (a large write).
      startWriteMs: round(writeStarted - collected),
      validateMs: round(ahead === NOTHING_AHEAD ? validated - writeStarted : ahead.validateMs),
      priceMs: round(pricedAt - registryLoaded + ahead.priceMs),
      // Rows validated and priced before the write, sent to PostgreSQL meanwhile: how many, and the wall time of handing them over
      // (their CPU, and that of the write's statements between chunks, is in writeCpuMs).
      rowsSentAhead: ahead.pricedUpTo,
      sendAheadMs: round(ahead.sendMs),
      // This process's CPU time in validating and in pricing (all its threads): steadier than the wall times on a busy machine.
      validateCpuMs: round(validateCpuMs),
      priceCpuMs: round(priceCpuMs),
      // Loading the price registry when this source was the first to need it (not part of the work per row).
      loadPricesMs: round(registryLoaded - validated),
      writeMs: round(performance.now() - pricedAt),
      // This process's own work in the write (building and sending the statements, those of rows sent ahead and the driver's work between chunks included), without the wait for the database.
      writeCpuMs: round(cpuMs(process.cpuUsage(writeCpu)) + aheadWriteCpuMs),
      // Everything after collect(), wall: the phases above overlap when rows are sent ahead.
      afterCollectMs: round(performance.now() - collected),
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
    // Rolled back before anything else: nothing of a failed cycle stays, and
    // on PGlite the open transaction would hold up the status row below.
    await started?.abandon();
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

/** Records validated (and, on a first write, priced and sent) at a time: a statement's worth (upsertUsageRows' ROWS_PER_STATEMENT). */
const ROWS_PER_CHUNK = 5_000;

/**
 * What validateSendingAhead did: rows [0, pricedUpTo) are priced and sent,
 * their unpriced ones listed; its time in validating, pricing and sending
 * (the rest of its time went to the write's statements between chunks).
 */
type RowsSentAhead = {
  readonly pricedUpTo: number;
  readonly unpriced: UsageRow[];
  readonly validateMs: number;
  readonly validateCpuMs: number;
  readonly priceMs: number;
  readonly priceCpuMs: number;
  readonly sendMs: number;
  readonly sendCpuMs: number;
};

const NOTHING_AHEAD: RowsSentAhead = { pricedUpTo: 0, unpriced: [], validateMs: 0, validateCpuMs: 0, priceMs: 0, priceCpuMs: 0, sendMs: 0, sendCpuMs: 0 };

/**
 * toUsageRows a chunk at a time (the same rows, and the same error: the
 * first refused record's), each chunk priced and sent to the started write
 * as soon as it is valid, so that PostgreSQL inserts it while this process
 * validates the next. A chunk goes only while nothing would stop the write
 * before its statements: a SIGTERM, a row holding a secret, a price registry
 * that does not load. From the first such chunk on, rows are only validated,
 * and the caller's usual order (abort check, registry, secrets, pricing)
 * reports the trouble as before; what was sent is rolled back with the write.
 */
async function validateSendingAhead(
  records: readonly UsageRecordInput[],
  options: Parameters<typeof toUsageRows>[1] & { readonly where: (index: number) => string },
  context: {
    readonly write: StartedSourceWrite;
    readonly signal: AbortSignal;
    readonly holdsEchoedSecret: (rows: readonly UsageRow[]) => boolean;
    readonly pricing: () => Promise<PriceRegistry>;
  },
): Promise<{ rows: UsageRow[]; ahead: RowsSentAhead }> {
  const rows: UsageRow[] = new Array(records.length);
  let pricedUpTo = 0;
  let unpriced: UsageRow[] = [];
  let validateMs = 0;
  let validateCpuMs = 0;
  let priceMs = 0;
  let priceCpuMs = 0;
  let sendMs = 0;
  let sendCpuMs = 0;
  let sending = true;
  let pricing: { registry: PriceRegistry; priceRows: typeof import('./price-rows').priceRows } | undefined;
  const pricer = {};
  for (let start = 0; start < records.length; start += ROWS_PER_CHUNK) {
    // A turn of the event loop: the driver sends a statement queued behind the one that just ran.
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const validateStarted = performance.now();
    const validateCpu = process.cpuUsage();
    const chunk = toUsageRows(records.slice(start, start + ROWS_PER_CHUNK), { ...options, where: (index) => options.where(start + index) });
    for (let index = 0; index < chunk.length; index += 1) rows[start + index] = chunk[index] as UsageRow;
    validateMs += performance.now() - validateStarted;
    validateCpuMs += cpuMs(process.cpuUsage(validateCpu));
    if (!sending || context.signal.aborted || context.holdsEchoedSecret(chunk)) {
      sending = false;
      continue;
    }
    const priceStarted = performance.now();
    const priceCpu = process.cpuUsage();
    if (pricing === undefined && chunk.some(needsPrice)) {
      try {
        pricing = { registry: await context.pricing(), priceRows: (await import('./price-rows')).priceRows };
      } catch {
        sending = false;
        continue;
      }
    }
    const chunkUnpriced = pricing ? pricing.priceRows(chunk, pricing.registry, pricer).unpriced : chunk.filter((row) => row.cost_usd === null);
    unpriced = unpriced.length === 0 ? chunkUnpriced : unpriced.concat(chunkUnpriced);
    pricedUpTo = start + chunk.length;
    const sendStarted = performance.now();
    const sendCpu = process.cpuUsage();
    priceMs += sendStarted - priceStarted;
    priceCpuMs += cpuMs(process.cpuUsage(priceCpu));
    await context.write.sendRows(chunk);
    sendMs += performance.now() - sendStarted;
    sendCpuMs += cpuMs(process.cpuUsage(sendCpu));
  }
  return { rows, ahead: { pricedUpTo, unpriced, validateMs, validateCpuMs, priceMs, priceCpuMs, sendMs, sendCpuMs } };
}

/**
 * The source_instance values the records will carry once validated (a record
 * naming none takes the default), for the write's locks: taken before
 * validation, so read here without it. A value validation would refuse only
 * adds a lock; a row of an instance not read here is locked when the rows
 * are written.
 */
function expectedInstances(records: readonly UsageRecordInput[], defaultInstance: string): string[] {
  const instances = new Set<string>();
  let previous: unknown;
  for (let index = 0; index < records.length; index += 1) {
    const record = records[index] as UsageRecordInput | null | undefined;
    const instance = typeof record === 'object' && record !== null ? record.source_instance : undefined;
    if (instance === previous && index > 0) continue;
    previous = instance;
    instances.add(typeof instance === 'string' && instance !== '' ? instance : defaultInstance);
  }
  return [...instances];
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
