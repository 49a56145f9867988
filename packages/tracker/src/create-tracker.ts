import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigValidationError, type Logger, silentLogger, type TrackerSinkV1 } from '@utt/core';
import { loadPriceRegistry, type PriceRegistry } from '@utt/pricing';
import { type Budget, type BudgetConfig, parseBudgets, type ThreadBudgetConfig, threadBudgetConfigSchema, validateTimeZone } from './budget/budget-config';
import { type BudgetBreach, BudgetExceededError } from './budget/budget-exceeded-error';
import { type BudgetGuard, createBudgetGuard, type Reservation } from './budget/budget-guard';
import { loadBudgetsFromConfig } from './budget/load-budgets-from-config';
import { createThreadBudgets, DEFAULT_THREAD_RETENTION } from './budget/thread-budgets';
import { type CallQueue, createCallQueue, type QueuedCall, type QueueStats } from './call-queue';
import { createCallPricer, memoizeRegistry } from './price-call';
import { isDistinctiveResponseId } from './response-identity';
import type { CallUsage, TrackedCall } from './tracked-call';
import { type CallContext, type CallScope, createContextScope, STARTED_DEFAULT_TAGS } from './tracker-context';
import { addToTotals, callTokens, emptyTotals, type UsageTotals } from './usage-totals';

export type TrackerOptions = {
  /** The application: token_usage.source_system of its cells (e.g. 'billing-api'). */
  readonly application: string;
  /** The service or host: token_usage.source_instance (default: the host name). */
  readonly instance?: string;
  /** Where calls are written; `createTrackerSink(store)` from @utt/postgres. Without one, calls stay in memory (totals, subscribers, budgets). */
  readonly sink?: TrackerSinkV1;
  /** Prices; default the bundled registry (@utt/pricing's loadPriceRegistry()). */
  readonly prices?: PriceRegistry;
  /** Tags added to every call: an object, or a function called per call (keep it fast). */
  readonly defaultTags?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>> | undefined);
  /** Tag keys that become token_usage label dimensions (report by tenant, feature…). Other tags stay on the per-call rows only. */
  readonly labelTags?: readonly string[];
  /**
   * A utt config file (`utt.config.yaml`) whose `budgets:` and
   * `reportingTimeZone:` apply, so budgets are declared once for `utt budget`
   * and the service (see loadBudgetsFromConfig): a path relative to the
   * working directory, or `true` to find it as `utt` does (`UTT_CONFIG`, else
   * `utt.config.yaml`). Leave out `budgets` and `reportingTimeZone` then.
   */
  readonly config?: string | true;
  readonly budgets?: readonly BudgetConfig[];
  /** IANA zone for calendar day/month budgets (default UTC). */
  readonly reportingTimeZone?: string;
  /** Told when a budget's soft threshold or limit is crossed (notify, and alerts of raise/block budgets). */
  readonly onBudget?: (breach: BudgetBreach) => void;
  /** How often budget spend is re-read from the ledger (default 5000 ms). */
  readonly budgetRefreshIntervalMs?: number;
  /** When the ledger cannot be read for a block budget: 'open' (default) decides on in-process spend, 'closed' refuses. */
  readonly budgetFailMode?: 'open' | 'closed';
  /** Longest a block budget holds an admitted call's worst case (default 600 000 ms): a call never recorded nor released (its body never read) gives it back then. */
  readonly budgetHoldTimeoutMs?: number;
  readonly threadBudget?: ThreadBudgetConfig;
  /**
   * How long a thread no call counted in is kept (its totals and thread-budget
   * entry), unless registered or ended before (default 1 hour). Ended threads
   * (threads.end(), the end of runThread) are forgotten at once.
   */
  readonly threadIdleTimeoutMs?: number;
  /** Threads kept at most; past it the least recently used is forgotten, unless its runThread is under way (default 10 000). */
  readonly maxThreads?: number;
  /** Calls per sink write (default 500). */
  readonly batchSize?: number;
  /** Longest a call waits in memory before it is written (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Calls held while the sink fails (default 10 000); beyond that new calls are dropped and counted. */
  readonly maxQueueSize?: number;
  /** Flush once more when the event loop empties (`beforeExit`; default true). Pending records of streamed calls are made then either way. No signal handler is ever installed. */
  readonly flushOnExit?: boolean;
  readonly logger?: Logger;
  /** The clock (tests). */
  readonly now?: () => Date;
};

/** Before a call is sent: what a budget check needs. */
export type CallPlan = {
  readonly provider: string;
  readonly model: string;
  /** Output cap of the request (max_tokens, max_output_tokens); without one a block budget holds UNCAPPED_OUTPUT_TOKENS. */
  readonly maxOutputTokens?: number | null;
  /** Input tokens, if known or estimated (an upper bound keeps a block budget's bound; see estimateInputTokens). */
  readonly inputTokens?: number | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly threadId?: string | null;
};

/** A call admitted by the budgets; pass it to record() (or release it when the call fails). */
export type CallTicket = { readonly reservation: Reservation | undefined; release(): void };

export type TrackerStats = QueueStats & {
  /** Subscriber callbacks that threw (the call was not affected). */
  subscriberErrors: number;
  /** Calls recorded a second time: the same distinctive provider response id, model and counts (ignored). */
  duplicates: number;
  recorded: number;
};

export type Tracker = {
  readonly application: string;
  readonly instance: string;
  /** Records one call's known totals: priced, tagged, counted, queued. Throws BudgetExceededError after recording when a `raise` budget is passed. */
  record(usage: CallUsage, ticket?: CallTicket): TrackedCall;
  /** Runs fn with tags added to every call made inside it (AsyncLocalStorage: concurrent requests never share tags). */
  withTags<T>(tags: Readonly<Record<string, string>>, fn: () => T): T;
  /** Runs fn with a scope of tags, thread id and agent id. */
  withContext<T>(context: CallContext, fn: () => T): T;
  /** Registers a thread's token budget, runs fn inside it, and forgets the thread when fn settles (the last runThread of it, when several run at once). */
  runThread<T>(threadId: string, fn: () => Promise<T>, options?: { maxTokens?: number }): Promise<T>;
  /** Thread token budgets (seed 004): register, end, usage. */
  readonly threads: ReturnType<typeof createThreadBudgets>;
  /** Budget check before a call is sent: throws BudgetExceededError (block) or BudgetExhaustedError (thread). */
  admit(plan: CallPlan): Promise<CallTicket>;
  /** The tags, thread and agent a call made here would carry. */
  currentContext(): { tags: Readonly<Record<string, string>>; threadId: string | null; agentId: string | null };
  /**
   * Calls back once per recorded call, in the order calls ended; returns the unsubscribe function. A wrapped client's
   * streamed calls reach it in batches (see the README: within about 50–100 ms, or at once when anything reads the
   * tracker). A throwing callback is isolated and counted; the others still run.
   */
  subscribe(callback: (call: TrackedCall) => void): () => void;
  unsubscribe(callback: (call: TrackedCall) => void): void;
  totals(): UsageTotals;
  totalsByModel(): Record<string, UsageTotals>;
  totalsByAgent(): Record<string, UsageTotals>;
  totalsByThread(): Record<string, UsageTotals>;
  /** Budgets' current periods: spent (ledger + unflushed), reserved, limit. */
  budgetStatus(): ReturnType<BudgetGuard['status']>;
  /** Re-reads budget spend from the ledger now. */
  refreshBudgets(): Promise<void>;
  stats(): TrackerStats;
  /** Writes every queued call now. */
  flush(): Promise<void>;
  /** Stops timers and writes what is left (retrying up to timeoutMs, default 10 s). Call it from your own SIGTERM handler. */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  /** Prices a hypothetical call in USD (worst-case estimates), or null when it cannot be priced. */
  estimateCostUsd(call: { provider: string; model: string; inputTokens: number | null; outputTokens: number | null; serviceTier?: string }): number | null;
};

/**
 * What the integrations of this package use beyond the public API: the scope a
 * call was made in, and recording after the caller has its response. Not part
 * of the public API.
 */
export const TRACKER_INTERNALS: unique symbol = Symbol.for('utt.tracker.internals') as never;

export type TrackerInternals = {
  /**
   * The scope (tags, thread, agent) of a call made here, taken when the call
   * starts and kept with it: function default tags are evaluated now, in the
   * caller's context, not when the call is recorded.
   */
  scope(): CallScope | undefined;
  /** Whether a call made in `context` must pass admit() before it is sent (a budget or a thread budget applies). */
  needsAdmission(context: CallContext | undefined): boolean;
  /**
   * Whether a call made in `context` may be recorded after the caller has seen
   * its response end: no budgets (a `raise` budget rejects that read; the next
   * call's admission reads this one's spend) and no thread (whose next call is
   * checked against its tokens).
   */
  recordsLater(context: CallContext | undefined): boolean;
  /** record() for a call made in `context`. */
  record(usage: CallUsage, ticket: CallTicket | undefined, context: CallScope | undefined): TrackedCall;
  /** A call whose record will be deferred was sent (1: its end calls defer once), or ended without a record (-1). */
  calling(delta: 1 | -1): void;
  /**
   * Adds `task` (a call's record, synchronous) to the pending records: run in
   * one pass with the others (see drain), in the order they were added.
   */
  defer(task: () => void): void;
  /**
   * Runs every pending record now, in one pass. The tracker calls it through
   * this property (so a bench can time it): on the turn after the end of the
   * call that makes RECORD_BATCH records pending, or that ends RECORD_DELAY_MS
   * or more after the first of them; on a timer RECORD_DELAY_MS after the
   * first (2 × RECORD_DELAY_MS while a tracked call is under way); and
   * synchronously before anything reads or changes what they feed.
   */
  drain(): void;
};

/** Pending records that start a pass: on the turn after the end of the call that makes this many. */
export const RECORD_BATCH = 32;
/** How long a pending record waits for others (its call's end to its subscribers being called), in ms; at most twice that. */
export const RECORD_DELAY_MS = 50;

/** The output a block budget holds for a call that sets no output cap (LiteLLM's default reservation). */
export const UNCAPPED_OUTPUT_TOKENS = 16_384;

const DUPLICATE_WINDOW = 10_000;
const EVENT_ID_BATCH = 128;
const STANDARD_TIERS = new Set(['', 'standard', 'default', 'auto', 'on_demand']);

const countFields = ['inputTokens', 'outputTokens', 'cachedReadTokens', 'cachedWriteTokens', 'cachedWrite1hTokens', 'reasoningTokens', 'webSearches'] as const;

/** A count of record()'s usage, checked (its value read at the call site: one property per site, not a keyed read of seven). */
/** A call's time: an invalid Date would be queued, then refused by the store with its whole batch on every retry. */
function checkInstant(value: Date): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError('tracker.record: occurredAt must be a valid Date');
  return value;
}

function checkCount(value: number | null | undefined, field: (typeof countFields)[number]): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`tracker.record: ${field} must be a whole number ≥ 0 or null`);
  return value;
}

/**
 * Creates the tracker a service keeps for its lifetime. Loads the price
 * registry (unless given) and reads the ledger's spend of the current period
 * of every budget whose tag values are known (a '*' budget's values are read
 * when a call first brings one), then returns; afterwards only the first
 * admission of a period (or of a new tag value) waits on the database.
 */
export async function createTracker(options: TrackerOptions): Promise<Tracker> {
  if (typeof options.application !== 'string' || options.application.trim() === '') {
    throw new ConfigValidationError({ issues: ['application: required (the name of this service, token_usage.source_system)'] });
  }
  let budgets: Budget[];
  let timeZone: string;
  let budgetFile: string | undefined;
  let threadBudget = options.threadBudget;
  if (options.config !== undefined) {
    if (options.budgets !== undefined || options.reportingTimeZone !== undefined) {
      throw new ConfigValidationError({ issues: ['config: budgets and reportingTimeZone then come from the config file; leave them out of the options'] });
    }
    const loaded = await loadBudgetsFromConfig(options.config === true ? undefined : options.config);
    budgets = loaded.budgets;
    timeZone = loaded.reportingTimeZone;
    budgetFile = loaded.file;
    if (loaded.threadBudget !== undefined) {
      if (options.threadBudget !== undefined) {
        throw new ConfigValidationError({ file: loaded.file, issues: ['threadBudget: set in the config file and in the options; keep one'] });
      }
      threadBudget = loaded.threadBudget;
    }
  } else {
    budgets = parseBudgets(options.budgets);
    timeZone = validateTimeZone(options.reportingTimeZone ?? 'UTC', 'reportingTimeZone');
  }
  const threadConfig = threadBudgetConfigSchema.safeParse(threadBudget ?? {});
  if (!threadConfig.success) throw new ConfigValidationError({ issues: threadConfig.error.issues.map((issue) => `threadBudget.${issue.path.join('.')}: ${issue.message}`) });
  // A batch of 0 calls (or NaN) would be written forever without taking a call off the queue; a refresh every 0 ms
  // would read the ledger without pause.
  const wholeAtLeastOne = (value: number | undefined) => value === undefined || (Number.isSafeInteger(value) && value >= 1);
  const positiveMs = (value: number | undefined) => value === undefined || (Number.isFinite(value) && value > 0);
  const badOptions = [
    !wholeAtLeastOne(options.batchSize) && 'batchSize: a whole number ≥ 1 (calls per write)',
    !wholeAtLeastOne(options.maxQueueSize) && 'maxQueueSize: a whole number ≥ 1 (calls held while the sink fails)',
    !(options.flushIntervalMs === undefined || (Number.isFinite(options.flushIntervalMs) && options.flushIntervalMs >= 0)) && 'flushIntervalMs: a number of ms ≥ 0',
    !positiveMs(options.budgetRefreshIntervalMs) && 'budgetRefreshIntervalMs: a number of ms > 0',
    !positiveMs(options.budgetHoldTimeoutMs) && 'budgetHoldTimeoutMs: a number of ms > 0',
  ].filter((issue): issue is string => typeof issue === 'string');
  if (badOptions.length > 0) throw new ConfigValidationError({ issues: badOptions });
  const labelTags = [...(options.labelTags ?? [])];
  if (options.sink?.readSpend) {
    budgets.forEach((budget, index) => {
      for (const key of Object.keys(budget.scope?.tags ?? {})) {
        if (!labelTags.includes(key)) {
          throw new ConfigValidationError({
            issues: [`budgets[${index}].scope.tags.${key}: add ${JSON.stringify(key)} to labelTags, so the ledger's hourly cells carry it and the budget can read its spend`],
            file: budgetFile,
          });
        }
      }
    });
  }
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const registry = memoizeRegistry(options.prices ?? (await loadPriceRegistry()));
  const priceCall = createCallPricer(registry);
  const instance = options.instance ?? hostname();
  const application = options.application;

  const scope = createContextScope();
  const subscribers: Array<(call: TrackedCall) => void> = [];
  const overall = emptyTotals();
  const byModel = new Map<string, UsageTotals>();
  const byAgent = new Map<string, UsageTotals>();
  const byThread = new Map<string, UsageTotals>();
  const counters = { subscriberErrors: 0, duplicates: 0, recorded: 0 };
  const threadIdleTimeoutMs = options.threadIdleTimeoutMs ?? DEFAULT_THREAD_RETENTION.idleTimeoutMs;
  const maxThreads = options.maxThreads ?? DEFAULT_THREAD_RETENTION.maxThreads;
  if (!(threadIdleTimeoutMs > 0) || !Number.isSafeInteger(maxThreads) || maxThreads < 1) {
    throw new ConfigValidationError({ issues: ['threadIdleTimeoutMs: a number of ms > 0; maxThreads: a whole number ≥ 1'] });
  }
  // A thread's totals go with its thread-budget entry: both are kept for as long as the thread is.
  const threads = createThreadBudgets(threadConfig.data.defaultMaxTokens, {
    idleTimeoutMs: threadIdleTimeoutMs,
    maxThreads,
    now: options.now ? () => now().getTime() : Date.now,
    onForget: (threadId) => byThread.delete(threadId),
  });

  const queue: CallQueue = createCallQueue({
    sink: options.sink,
    batchSize: options.batchSize ?? 500,
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    maxQueueSize: options.maxQueueSize ?? 10_000,
    logger,
  });
  const guard = createBudgetGuard({
    budgets,
    timeZone,
    sourceSystem: application,
    sink: options.sink,
    refreshIntervalMs: options.budgetRefreshIntervalMs ?? 5000,
    holdTimeoutMs: options.budgetHoldTimeoutMs ?? 600_000,
    failMode: options.budgetFailMode ?? 'open',
    onBudget: options.onBudget,
    logger,
    now,
    committedEpoch: () => queue.epoch(),
  });

  // Tags of a scope merged with static default tags, once per scope: most calls carry no tags of their own.
  const EMPTY_TAGS: Readonly<Record<string, string>> = Object.freeze({});
  const mergedScopes = new WeakMap<object, Readonly<Record<string, string>>>();
  // A frozen copy: the calls without tags of their own share it, so a subscriber that wrote into one call's tags would
  // otherwise have written into every later call's (as the merged scopes above are frozen for the same reason).
  const staticDefaultTags = typeof options.defaultTags === 'object' && options.defaultTags !== null ? Object.freeze({ ...options.defaultTags }) : undefined;
  const resolveTags = (explicit: Readonly<Record<string, string>> | undefined, context: CallScope | undefined): Readonly<Record<string, string>> => {
    if (typeof options.defaultTags === 'function') {
      // A call recorded after it started (a stream) carries the default tags of the context it was made in.
      const defaults = context?.[STARTED_DEFAULT_TAGS] ?? safeDefaultTags(options.defaultTags, logger);
      return { ...defaults, ...context?.tags, ...explicit };
    }
    const defaults = staticDefaultTags;
    if (explicit) return { ...defaults, ...context?.tags, ...explicit };
    const scoped = context?.tags;
    if (!scoped) return defaults ?? EMPTY_TAGS;
    let merged = mergedScopes.get(scoped);
    if (!merged) {
      merged = Object.freeze({ ...defaults, ...scoped });
      mergedScopes.set(scoped, merged);
    }
    return merged;
  };

  const labelsOf = (tags: Readonly<Record<string, string>>, serviceTier: string): Record<string, string> => {
    const labels: Record<string, string> = {};
    // Indexed: a for…of makes an array iterator per call, and this runs once per recorded call.
    for (let index = 0; index < labelTags.length; index += 1) {
      const key = labelTags[index] as string;
      const value = tags[key];
      if (value !== undefined) labels[key] = value;
    }
    if (serviceTier !== '') labels.service_tier = serviceTier;
    return labels;
  };

  const estimateCostUsd: Tracker['estimateCostUsd'] = (call) => {
    const price = priceCall({
      provider: call.provider,
      model: call.model,
      occurredAt: now(),
      serviceTier: normalizeTier(call.serviceTier),
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      cachedReadTokens: null,
      cachedWriteTokens: null,
      cachedWrite1hTokens: null,
      webSearches: null,
    });
    return price.costUsd === null ? null : Number(price.costUsd);
  };

  const bump = (map: Map<string, UsageTotals>, key: string, call: TrackedCall, cost: number | null) => {
    let totals = map.get(key);
    if (!totals) {
      totals = emptyTotals();
      map.set(key, totals);
    }
    addToTotals(totals, call, cost);
  };
  // The last model's totals: a service's calls mostly go to one model, and a map lookup is one more cold structure per call.
  let lastModel: string | undefined;
  let lastModelTotals: UsageTotals | undefined;
  const bumpModel = (call: TrackedCall, cost: number | null) => {
    if (call.model !== lastModel || lastModelTotals === undefined) {
      lastModel = call.model;
      lastModelTotals = byModel.get(call.model);
      if (!lastModelTotals) {
        lastModelTotals = emptyTotals();
        byModel.set(call.model, lastModelTotals);
      }
    }
    addToTotals(lastModelTotals, call, cost);
  };

  // Event ids drawn 128 at a time: randomUUID() per call runs crypto's code and tables cold after each streamed call (the
  // SDK and the socket have run in between); a batch runs them warm. Node's own randomUUID() draws its random bytes for
  // 128 ids at a time.
  let eventIds: string[] = [];
  let nextEventId = 0;
  const newEventId = (): string => {
    if (nextEventId === eventIds.length) {
      eventIds = Array.from({ length: EVENT_ID_BATCH }, () => randomUUID());
      nextEventId = 0;
    }
    const id = eventIds[nextEventId] as string;
    // Dropped from the batch once given out: an id is never given twice.
    eventIds[nextEventId] = '';
    nextEventId += 1;
    return id;
  };

  const record = (usage: CallUsage, ticket: CallTicket | undefined, context: CallScope | undefined): TrackedCall => {
    ticket?.release();
    if (typeof usage.provider !== 'string' || usage.provider === '') throw new TypeError('tracker.record: provider is required');
    if (typeof usage.model !== 'string') throw new TypeError('tracker.record: model must be a string');
    const responseId = usage.responseId ?? null;
    const inputTokens = checkCount(usage.inputTokens, 'inputTokens');
    const outputTokens = checkCount(usage.outputTokens, 'outputTokens');
    const cachedReadTokens = checkCount(usage.cachedReadTokens, 'cachedReadTokens');
    const cachedWriteTokens = checkCount(usage.cachedWriteTokens, 'cachedWriteTokens');
    const cachedWrite1hTokens = checkCount(usage.cachedWrite1hTokens, 'cachedWrite1hTokens');
    const reasoningTokens = checkCount(usage.reasoningTokens, 'reasoningTokens');
    const webSearches = checkCount(usage.webSearches, 'webSearches');
    // A retried record of one response: the same distinctive id, model and counts (see response-identity.ts). Servers
    // that reuse ids (Ollama's chatcmpl-0…998) make distinct calls share one; those are recorded, each of them.
    const responseKey = responseId === null || !isDistinctiveResponseId(responseId) ? undefined : `${usage.provider}\u0000${responseId}`;
    if (responseKey !== undefined) {
      const seen = previous.get(responseKey);
      if (
        seen !== undefined &&
        seen.model === usage.model &&
        seen.inputTokens === inputTokens &&
        seen.outputTokens === outputTokens &&
        seen.cachedReadTokens === cachedReadTokens &&
        seen.cachedWriteTokens === cachedWriteTokens &&
        seen.cachedWrite1hTokens === cachedWrite1hTokens &&
        seen.reasoningTokens === reasoningTokens &&
        seen.webSearches === webSearches
      ) {
        counters.duplicates += 1;
        return seen;
      }
    }
    const tags = resolveTags(usage.tags, context);
    const serviceTier = normalizeTier(usage.serviceTier);
    const occurredAt = usage.occurredAt == null ? now() : checkInstant(usage.occurredAt);
    const usageOrigin = usage.usageOrigin ?? 'manual';
    // A call whose usage never arrived, or arrived without its output (an Anthropic or Gemini stream cut after its
    // input counts): what it cost is not known, and a price of its input alone would be shown as the whole.
    const price =
      usageOrigin === 'unknown' && outputTokens === null
        ? { costUsd: null, priceRef: null, unpricedReason: 'usage_unknown' }
        : usage.unpricedReason
          ? { costUsd: null, priceRef: null, unpricedReason: usage.unpricedReason }
          : priceCall({ provider: usage.provider, model: usage.model, occurredAt, serviceTier, inputTokens, outputTokens, cachedReadTokens, cachedWriteTokens, cachedWrite1hTokens, webSearches });
    const call: { -readonly [Key in keyof TrackedCall]: TrackedCall[Key] } = {
      specificationVersion: 'v1',
      eventId: newEventId(),
      sourceSystem: application,
      sourceInstance: instance,
      occurredAt,
      provider: usage.provider,
      model: usage.model,
      operation: usage.operation ?? '',
      inputTokens,
      outputTokens,
      cachedReadTokens,
      cachedWriteTokens,
      cachedWrite1hTokens,
      reasoningTokens,
      webSearches,
      serviceTier,
      latencyMs: usage.latencyMs ?? null,
      streaming: usage.streaming ?? false,
      responseId,
      threadId: usage.threadId ?? context?.threadId ?? null,
      agentId: usage.agentId ?? context?.agentId ?? null,
      tags,
      labels: labelsOf(tags, serviceTier),
      usageOrigin,
      costUsd: price.costUsd,
      priceRef: price.priceRef,
      unpricedReason: price.unpricedReason,
    };
    // Set when present (not spread in: a spread copies through a temporary object).
    if (usage.rateLimitHeaders) call.rateLimitHeaders = usage.rateLimitHeaders;
    if (usage.requestId) call.requestId = usage.requestId;
    if (responseKey !== undefined) remember(responseKey, call);
    const cost = call.costUsd === null ? null : (price.costNumber ?? Number(call.costUsd));
    counters.recorded += 1;
    addToTotals(overall, call, cost);
    bumpModel(call, cost);
    if (call.agentId !== null) bump(byAgent, call.agentId, call, cost);
    if (call.threadId !== null) {
      bump(byThread, call.threadId, call, cost);
      threads.add(call.threadId, callTokens(call));
    }
    const item: QueuedCall | undefined = options.sink ? queue.enqueue(call) : undefined;
    const breach = guard.active ? guard.settle(call, cost, item) : undefined;
    for (let index = 0; index < subscribers.length; index += 1) {
      try {
        (subscribers[index] as (call: TrackedCall) => void)(call);
      } catch (error) {
        counters.subscriberErrors += 1;
        if (counters.subscriberErrors === 1 || counters.subscriberErrors % 1000 === 0) {
          logger.warn('utt tracker: a subscriber threw; the call is recorded and other subscribers still run', {
            subscriberErrors: counters.subscriberErrors,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
    if (breach) throw new BudgetExceededError(breach);
    return call;
  };

  // Distinctive response ids seen recently, so a retried record is not counted twice.
  const previous = new Map<string, TrackedCall>();
  const remember = (key: string, call: TrackedCall) => {
    previous.set(key, call);
    if (previous.size > DUPLICATE_WINDOW) {
      const oldest = previous.keys().next().value as string;
      previous.delete(oldest);
    }
  };

  // Records of streams that ended, made off the callers' path and several in one pass: each pass runs the tracker's
  // code and data warm, and leaves its aftermath in the caches once per batch instead of once per call (what a record
  // costs a streamed call on a CPU-bound path is mostly that aftermath, not what it computes). Every record is
  // synchronous (its reads' results are at hand), so anything that reads or changes what the records feed drains them
  // first, and sees every call whose end its caller has.
  let closed = false;
  let pendingRecords: Array<() => void> = [];
  let exitListener: (() => void) | undefined;
  const drainOnExit = () => drain();
  let firstPendingAt = 0;
  let draining = false;
  let drainSoon = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let postponed = false;
  // Tracked calls sent whose record will be deferred: a pass on the timer waits for their end if it can.
  let inFlight = 0;
  const recordFailed = (error: unknown) => {
    logger.warn('utt tracker: recording a call after its response ended failed', { error: error instanceof Error ? error.message : String(error) });
  };
  const drainNow = () => {
    if (draining) return; // Called from inside a pass (a subscriber reading totals()): that pass goes on in order.
    draining = true;
    drainSoon = false;
    postponed = false;
    if (drainTimer !== undefined) {
      clearTimeout(drainTimer);
      drainTimer = undefined;
    }
    // Records added while the pass runs (none from the tracker itself) wait for the next one.
    const tasks = pendingRecords;
    pendingRecords = [];
    try {
      for (let index = 0; index < tasks.length; index += 1) {
        try {
          (tasks[index] as () => void)();
        } catch (error) {
          recordFailed(error);
        }
      }
    } finally {
      draining = false;
    }
    if (pendingRecords.length > 0) {
      firstPendingAt = Date.now();
      armTimer();
    } else if (exitListener === drainOnExit) {
      process.off('beforeExit', drainOnExit);
      exitListener = undefined;
    }
  };
  // Through the internals object, so that a bench's wrapper sees every pass.
  const drain = () => {
    if (pendingRecords.length > 0) internals.drain();
  };
  const armTimer = () => {
    // Without flushOnExit, a beforeExit listener only while records are pending: one per tracker for its lifetime
    // would pile up (and warn) in a process that makes many trackers.
    if (exitListener === undefined && !closed) {
      exitListener = drainOnExit;
      process.on('beforeExit', drainOnExit);
    }
    if (drainTimer !== undefined) return;
    // unref'd: it never keeps a process alive; beforeExit drains what it leaves.
    drainTimer = setTimeout(drainFromTimer, RECORD_DELAY_MS);
    drainTimer.unref();
  };
  // A timer fires wherever the event loop is, often in the middle of a tracked stream, whose caller would then wait for
  // the pass: while a tracked call is under way, the pass waits (once) for an end, and runs on the turn after it.
  const drainFromTimer = () => {
    drainTimer = undefined;
    if (inFlight > 0 && !postponed) {
      postponed = true;
      armTimer();
      return;
    }
    drain();
  };
  const drainFromImmediate = () => {
    drainSoon = false;
    drain();
  };
  const calling = (delta: 1 | -1) => {
    inFlight += delta;
  };
  const defer = (task: () => void) => {
    if (inFlight > 0) inFlight -= 1;
    pendingRecords.push(task);
    if (pendingRecords.length === 1) {
      firstPendingAt = Date.now();
      armTimer();
    } else if (!drainSoon && (pendingRecords.length >= RECORD_BATCH || Date.now() - firstPendingAt >= RECORD_DELAY_MS)) {
      // After the end of the call that completes the batch (or that ends when the oldest record has waited long
      // enough): on the next turn, off that caller's path.
      drainSoon = true;
      setImmediate(drainFromImmediate);
    }
  };
  /** Drains the pending records, once more after one turn: streams whose end was just handed over have added theirs then. */
  const settleDeferred = async () => {
    drain();
    await new Promise((resolve) => setImmediate(resolve));
    drain();
  };
  const defaultTagsFunction = typeof options.defaultTags === 'function' ? options.defaultTags : undefined;
  const internals: TrackerInternals = {
    scope: () => {
      const context = scope.current();
      if (defaultTagsFunction === undefined) return context;
      return { ...context, [STARTED_DEFAULT_TAGS]: safeDefaultTags(defaultTagsFunction, logger) ?? EMPTY_TAGS };
    },
    needsAdmission: (context) => guard.active || (context?.threadId !== undefined && context.threadId !== null),
    recordsLater: (context) => !guard.active && (context?.threadId === undefined || context.threadId === null),
    record: (usage, ticket, context) => {
      // The calls that ended before this one first: subscribers and the queue see calls in the order they ended.
      drain();
      return record(usage, ticket, context);
    },
    calling,
    defer,
    drain: drainNow,
  };

  const flushOnExit = options.flushOnExit ?? true;
  // The pending records' timer is unref'd, so the event loop can empty before it fires: beforeExit records them (their
  // subscribers are called) and, with flushOnExit, writes them. Without flushOnExit, armTimer listens while any wait.
  // A flush on exit that fails (the database is down) is not tried again at the next beforeExit: a failed write that
  // went through a socket is an event-loop turn, after which beforeExit comes again, so the process would retry the
  // write back to back, forever, instead of exiting. What it leaves unwritten is logged, never silent; a call recorded
  // after it gives the next beforeExit one more try.
  let exitFlushFailedAt = -1;
  const onBeforeExit = () => {
    if (closed) return;
    drain();
    if (queue.stats().pending === 0 || exitFlushFailedAt === counters.recorded) return;
    void queue.flush().then(() => {
      const { pending, lastError } = queue.stats();
      if (pending === 0) return;
      exitFlushFailedAt = counters.recorded;
      logger.error('utt tracker: the process is exiting with tracked calls not written: the flush on exit failed (shutdown() retries until its timeoutMs)', {
        unwritten: pending,
        error: lastError,
      });
    });
  };
  if (flushOnExit) {
    exitListener = onBeforeExit;
    process.on('beforeExit', onBeforeExit);
  }

  await guard.start();

  const toRecord = (map: Map<string, UsageTotals>) => Object.fromEntries([...map].map(([key, totals]) => [key, { ...totals }]));

  const tracker: Tracker = {
    application,
    instance,
    record: (usage, ticket) => {
      drain();
      return record(usage, ticket, scope.current());
    },
    withTags: (tags, fn) => scope.run({ tags }, fn),
    withContext: (context, fn) => scope.run(context, fn),
    async runThread(threadId, fn, runOptions) {
      const release = threads.hold(threadId, runOptions?.maxTokens);
      try {
        return await scope.run({ threadId }, fn);
      } finally {
        // The last runThread of the thread forgets it: another one under way still counts its tokens against its limit.
        if (release() === 0) threads.end(threadId);
      }
    },
    threads,
    async admit(plan) {
      drain();
      const context = scope.current();
      threads.check(plan.threadId ?? context?.threadId);
      if (!guard.active) return { reservation: undefined, release() {} };
      const tags = resolveTags(plan.tags, context);
      const capped = plan.maxOutputTokens !== undefined && plan.maxOutputTokens !== null;
      const worstCase = estimateCostUsd({ provider: plan.provider, model: plan.model, inputTokens: plan.inputTokens ?? 0, outputTokens: capped ? plan.maxOutputTokens : UNCAPPED_OUTPUT_TOKENS });
      const reservation = await guard.reserve({ provider: plan.provider, model: plan.model, tags, worstCaseUsd: worstCase, capped });
      let released = false;
      return {
        reservation,
        release() {
          if (released) return;
          released = true;
          reservation?.release();
        },
      };
    },
    currentContext() {
      const context = scope.current();
      return { tags: resolveTags(undefined, context), threadId: context?.threadId ?? null, agentId: context?.agentId ?? null };
    },
    subscribe(callback) {
      // Calls that ended before it subscribed are not its calls.
      drain();
      subscribers.push(callback);
      return () => tracker.unsubscribe(callback);
    },
    unsubscribe(callback) {
      // Calls that ended while it was subscribed are.
      drain();
      const index = subscribers.indexOf(callback);
      if (index >= 0) subscribers.splice(index, 1);
    },
    totals: () => {
      drain();
      return { ...overall };
    },
    totalsByModel: () => {
      drain();
      return toRecord(byModel);
    },
    totalsByAgent: () => {
      drain();
      return toRecord(byAgent);
    },
    totalsByThread: () => {
      drain();
      return toRecord(byThread);
    },
    budgetStatus: () => {
      drain();
      return guard.status();
    },
    refreshBudgets: () => {
      drain();
      return guard.refresh();
    },
    stats: () => {
      drain();
      return { ...queue.stats(), ...counters };
    },
    async flush() {
      await settleDeferred();
      await queue.flush();
    },
    async shutdown(shutdownOptions) {
      if (closed) return;
      closed = true;
      if (exitListener !== undefined) process.off('beforeExit', exitListener);
      exitListener = undefined;
      await settleDeferred();
      guard.close();
      await queue.close(shutdownOptions?.timeoutMs ?? 10_000);
    },
    estimateCostUsd,
  };
  Object.defineProperty(tracker, TRACKER_INTERNALS, { value: internals });
  return tracker;
}

// The last tier normalized, and what it became: a service's calls report one tier or a few.
let lastTier = '';
let lastNormalizedTier = '';

function normalizeTier(tier: string | null | undefined): string {
  if (!tier) return '';
  if (tier === lastTier) return lastNormalizedTier;
  const lowered = tier.trim().toLowerCase();
  lastTier = tier;
  lastNormalizedTier = STANDARD_TIERS.has(lowered) ? '' : lowered;
  return lastNormalizedTier;
}

function safeDefaultTags(fn: () => Readonly<Record<string, string>> | undefined, logger: Logger): Readonly<Record<string, string>> | undefined {
  try {
    return fn();
  } catch (error) {
    logger.warn('utt tracker: defaultTags threw; the call is recorded without default tags', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
