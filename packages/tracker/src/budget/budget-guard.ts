import type { Logger, SpendQueryV1, TrackerSinkV1 } from '@utt/core';
import type { QueuedCall } from '../call-queue';
import type { TrackedCall } from '../tracked-call';
import type { Budget } from './budget-config';
import { type BudgetBreach, BudgetExceededError } from './budget-exceeded-error';
import { calendarPeriod } from './calendar-period';
import { modelInScope, modelWithoutSnapshot } from './model-scope';

/** What the guard knows about a call before it is sent. */
export type CallIntent = {
  readonly provider: string;
  readonly model: string;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * The most the call can cost (input estimate + output cap, priced), or null
   * when the model has no price (its calls are recorded unpriced and count
   * toward no USD budget).
   */
  readonly worstCaseUsd: number | null;
  /** Whether the request set its output cap; without one the worst case is a fallback estimate (see reserve). */
  readonly capped: boolean;
};

/** A hold on budget for a call in flight; released when the call is recorded or fails, else when it expires or is garbage collected. */
export type Reservation = { release(): void; readonly holds: readonly Hold[] };
type Hold = { state: PeriodState; amount: number };
/** The holds of one reservation, apart from the reservation itself: the reservation can be garbage collected while this is kept. */
type HoldEntry = { holds: Hold[]; readonly expiresAt: number };

type LocalSpend = { readonly cost: number; readonly item: QueuedCall | undefined };

/** Spend of one budget (and tag value) in one period. */
type PeriodState = {
  readonly key: string;
  readonly budget: Budget;
  readonly scopeValues: Readonly<Record<string, string>>;
  readonly start: Date;
  readonly end: Date;
  /** What the ledger said at the last refresh (every source in scope, this process's flushed calls included). */
  ledgerUsd: number;
  ledgerLoaded: boolean;
  /**
   * Calls this process recorded that the last ledger read did not include,
   * kept only while a ledger read can take them over; their sum is localUsd,
   * kept as they come, so that an admission never walks them.
   */
  local: LocalSpend[];
  localUsd: number;
  reservedUsd: number;
  /** The period's first ledger read, while it runs. */
  loading: Promise<void> | undefined;
  /** After a failed read, calls decide without one until then (Date.now()): an outage does not cost every call a round trip. */
  retryReadAt: number;
  /** What the last failed read threw: the cause a `closed` refusal carries. */
  readError: unknown;
  softNotified: boolean;
  hardNotified: boolean;
};

export type BudgetGuardOptions = {
  readonly budgets: readonly Budget[];
  readonly timeZone: string;
  readonly sourceSystem: string;
  readonly sink: TrackerSinkV1 | undefined;
  readonly refreshIntervalMs: number;
  /** How long a hold lasts at most: a call that is never recorded nor released (a body never read) gives its hold back then. */
  readonly holdTimeoutMs: number;
  /** What happens when the ledger cannot be read: 'open' admits on in-process spend alone (logged), 'closed' refuses block-budget calls. */
  readonly failMode: 'open' | 'closed';
  readonly onBudget: ((breach: BudgetBreach) => void) | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The sink's write epoch now (see CallQueue): ledger reads include calls committed at or before it. */
  readonly committedEpoch: () => number;
};

/** Spend is summed in floating point: a nano-dollar of slack keeps 10 × $0.008 within a $0.08 limit. */
const SLACK_USD = 1e-9;

const sum = (spends: readonly LocalSpend[]) => {
  let total = 0;
  for (const spend of spends) total += spend.cost;
  return total;
};

/**
 * USD budgets over calendar periods, in process and over the ledger. A
 * period's spend = what the ledger said at the last read (every source in
 * scope; read when the period is first needed, then refreshed on an
 * interval) + what this process recorded since that the read did not include
 * + the worst case of calls in flight. `block` refuses a call before it is
 * sent when that sum plus the call's own worst case would pass the limit, so
 * within one process a concurrent burst cannot overspend by more than the
 * amount a call exceeds its estimate. A call without an output cap whose
 * fallback worst case does not fit is admitted as the one call over while
 * the period is under its limit, holding the rest of it. No call ever waits
 * for another.
 */
export function createBudgetGuard(options: BudgetGuardOptions) {
  const states = new Map<string, PeriodState>();
  // The dearest call seen per model, keyed without the snapshot date: an admission knows the alias the request names,
  // a record the snapshot the response names.
  const maxSeenCost = new Map<string, number>();
  const dearestKey = (provider: string, model: string) => `${provider}\u0000${modelWithoutSnapshot(model)}`;
  // Holds not yet given back, oldest first: each admission drops those past holdTimeoutMs.
  const liveHolds = new Set<HoldEntry>();
  const giveBack = (entry: HoldEntry) => {
    if (!liveHolds.delete(entry)) return;
    for (const hold of entry.holds.splice(0)) hold.state.reservedUsd -= hold.amount;
  };
  // A reservation collected unreleased (its response dropped unread) gives its holds back.
  const collected = new FinalizationRegistry<HoldEntry>(giveBack);
  const expireHolds = (at: number) => {
    for (const entry of liveHolds) {
      if (entry.expiresAt > at) break;
      giveBack(entry);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const matches = (budget: Budget, provider: string, model: string, tags: Readonly<Record<string, string>>): Record<string, string> | undefined => {
    const scope = budget.scope;
    if (!scope) return {};
    if (scope.source !== undefined && scope.source !== options.sourceSystem) return undefined;
    if (scope.provider !== undefined && scope.provider.toLowerCase() !== provider.toLowerCase()) return undefined;
    if (scope.model !== undefined && !modelInScope(scope.model, model)) return undefined;
    const values: Record<string, string> = {};
    for (const [key, wanted] of Object.entries(scope.tags ?? {})) {
      const value = tags[key];
      if (value === undefined || (wanted !== '*' && wanted !== value)) return undefined;
      values[key] = value;
    }
    return values;
  };

  /** With `recorded`, `at` is a recorded call's start, which may lie in a period already left: undefined then. */
  const stateFor = (budget: Budget, scopeValues: Record<string, string>, at: Date, recorded = false): PeriodState | undefined => {
    if (budget.period === 'call') return undefined;
    const key = `${budget.name}\u0000${JSON.stringify(scopeValues)}`;
    let state = states.get(key);
    // Within the period it has: no calendar arithmetic (several Intl calls) on a call's path.
    const time = at.getTime();
    if (state && time >= state.start.getTime() && time < state.end.getTime()) return state;
    // A call of a period already left (started before midnight, recorded after): the ledger counts it in its own
    // period; taking that period back would throw away the current one's unflushed spend, holds and notices.
    if (recorded && state && time < state.start.getTime()) return undefined;
    const period = calendarPeriod(at, budget.period, options.timeZone);
    if (!state || state.start.getTime() !== period.start.getTime()) {
      state = {
        key,
        budget,
        scopeValues,
        start: period.start,
        end: period.end,
        ledgerUsd: 0,
        ledgerLoaded: !options.sink?.readSpend,
        local: [],
        localUsd: 0,
        reservedUsd: 0,
        loading: undefined,
        retryReadAt: 0,
        readError: undefined,
        softNotified: false,
        hardNotified: false,
      };
      states.set(key, state);
    }
    return state;
  };

  const spentUsd = (state: PeriodState) => state.ledgerUsd + state.localUsd;

  /** The period's first ledger read, shared by the calls that need it meanwhile; a failed read is tried again by the next call. */
  const load = (state: PeriodState): Promise<void> => {
    if (state.ledgerLoaded) return Promise.resolve();
    state.loading ??= refresh([state]).finally(() => {
      state.loading = undefined;
    });
    return state.loading;
  };
  const readFailed = (error: unknown, budget?: Budget) =>
    options.logger.warn('utt tracker: reading budget spend from the ledger failed', { ...(budget ? { budget: budget.name } : {}), error: error instanceof Error ? error.message : String(error) });

  const query = (state: PeriodState): SpendQueryV1 => {
    const scope = state.budget.scope ?? {};
    const labels = { ...(scope.tags ?? {}), ...state.scopeValues };
    return {
      start: state.start,
      end: state.end,
      calendar: state.budget.period === 'call' ? undefined : { period: state.budget.period, timeZone: options.timeZone },
      scope: {
        provider: scope.provider,
        model: scope.model,
        sourceSystem: scope.source,
        labels: Object.keys(labels).length > 0 ? labels : undefined,
      },
    };
  };

  async function refresh(selected: readonly PeriodState[] = [...states.values()]): Promise<void> {
    const readSpend = options.sink?.readSpend;
    if (!readSpend || selected.length === 0) return;
    const epoch = options.committedEpoch();
    let values: readonly string[];
    try {
      values = await readSpend.call(options.sink, selected.map(query));
    } catch (error) {
      const retryReadAt = Date.now() + options.refreshIntervalMs;
      for (const state of selected) {
        state.retryReadAt = retryReadAt;
        state.readError = error;
      }
      throw error;
    }
    selected.forEach((state, index) => {
      state.ledgerUsd = Number(values[index] ?? 0);
      state.ledgerLoaded = true;
      // Calls written before the read began are in the ledger figure now.
      state.local = state.local.filter((spend) => !(spend.item && spend.item.committedEpoch > 0 && spend.item.committedEpoch <= epoch));
      // Summed again rather than decremented: float subtraction would drift over a long period.
      state.localUsd = sum(state.local);
    });
  }

  const notify = (breach: BudgetBreach) => {
    try {
      options.onBudget?.(breach);
    } catch (error) {
      options.logger.warn('utt tracker: onBudget threw', { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const breachOf = (state: PeriodState | undefined, budget: Budget, values: Record<string, string>, total: number, callCost: number | null, level: 'soft' | 'hard', event?: TrackedCall): BudgetBreach => ({
    budget: budget.name,
    budgetType: budget.period,
    behavior: budget.behavior,
    level,
    limitUsd: budget.limitUsd,
    periodTotalUsd: total,
    callCostUsd: callCost,
    periodStart: state?.start,
    periodEnd: state?.end,
    scopeValues: values,
    event,
  });

  return {
    active: options.budgets.length > 0,
    /**
     * Reads the current period of every budget whose scope names its tag
     * values (a '*' scope's values are read as calls bring them), then starts
     * the periodic refresh (unref'd), which also moves states into a new
     * period when one begins.
     */
    async start(): Promise<void> {
      if (!options.sink?.readSpend || options.budgets.every((budget) => budget.period === 'call')) return;
      const now = options.now();
      const known: PeriodState[] = [];
      for (const budget of options.budgets) {
        const tags = budget.scope?.tags ?? {};
        if (Object.values(tags).includes('*')) continue;
        const state = stateFor(budget, { ...tags }, now);
        if (state) known.push(state);
      }
      await refresh(known).catch((error) => readFailed(error));
      const tick = () => {
        timer = setTimeout(() => {
          const at = options.now();
          for (const state of [...states.values()]) stateFor(state.budget, state.scopeValues as Record<string, string>, at);
          refresh()
            .catch((error) => readFailed(error))
            .finally(() => {
              if (!closed) tick();
            });
        }, options.refreshIntervalMs);
        timer.unref();
      };
      tick();
    },
    refresh,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },

    /**
     * Reads the ledger for any period of the call's budgets not read yet (once
     * a period: the first call of a day or month waits for one read, the
     * others for none), then checks every block budget the call falls under
     * and holds its worst case. Throws BudgetExceededError (nothing is sent)
     * when a limit would be passed. Never waits for another call.
     */
    async reserve(intent: CallIntent): Promise<Reservation | undefined> {
      let now = options.now();
      let reads: Array<Promise<void>> | undefined;
      const matched: Array<{ budget: Budget; values: Record<string, string> }> = [];
      for (const budget of options.budgets) {
        const values = matches(budget, intent.provider, intent.model, intent.tags);
        if (!values) continue;
        matched.push({ budget, values });
        if (budget.period === 'call') continue;
        const state = stateFor(budget, values, now) as PeriodState;
        if (state.ledgerLoaded) continue;
        const refuseUnread = budget.behavior === 'block' && options.failMode === 'closed';
        if (!state.loading && Date.now() < state.retryReadAt) {
          // The last read failed a moment ago: decide without the ledger until the next try.
          if (refuseUnread) throw new BudgetExceededError(breachOf(state, budget, values, Number.NaN, intent.worstCaseUsd, 'hard'), { cause: state.readError });
          continue;
        }
        (reads ??= []).push(
          load(state).catch((error: unknown) => {
            readFailed(error, budget);
            if (refuseUnread) throw new BudgetExceededError(breachOf(state, budget, values, Number.NaN, intent.worstCaseUsd, 'hard'), { cause: error });
          }),
        );
      }
      if (reads) {
        await Promise.all(reads);
        now = options.now();
      }
      if (!options.budgets.some((budget) => budget.behavior === 'block')) return undefined;
      const nowMs = now.getTime();
      expireHolds(nowMs);
      const dearestSeen = maxSeenCost.get(dearestKey(intent.provider, intent.model));
      let worstCase = intent.worstCaseUsd;
      if (worstCase !== null && !intent.capped) worstCase = Math.max(worstCase, dearestSeen ?? 0);
      const entry: HoldEntry = { holds: [], expiresAt: nowMs + options.holdTimeoutMs };
      const release = () => giveBack(entry);
      liveHolds.add(entry);
      try {
        for (const { budget, values } of matched) {
          if (budget.behavior !== 'block') continue;
          if (budget.period === 'call') {
            // Without an output cap, the dearest call of the model seen so far (the fallback cap would refuse most calls).
            const callWorstCase = intent.capped ? worstCase : (dearestSeen ?? null);
            if (callWorstCase !== null && callWorstCase > budget.limitUsd + SLACK_USD) {
              // Told of each refusal, as a notify or raise call budget is told of each call over it.
              const breach = breachOf(undefined, budget, values, callWorstCase, callWorstCase, 'hard');
              notify(breach);
              throw new BudgetExceededError(breach);
            }
            continue;
          }
          const state = stateFor(budget, values, now) as PeriodState;
          const committed = spentUsd(state) + state.reservedUsd;
          let hold = worstCase ?? 0;
          let needed = hold;
          if (!intent.capped && committed + hold > budget.limitUsd + SLACK_USD) {
            // Without an output cap the fallback is a guess: a call that does not fit it still goes if the dearest call of its
            // model seen so far fits (or none has been seen), as the one call over, holding the rest of the period.
            needed = dearestSeen ?? 0;
            hold = Math.max(0, budget.limitUsd - committed);
          }
          if (committed >= budget.limitUsd - SLACK_USD || committed + needed > budget.limitUsd + SLACK_USD) {
            const breach = breachOf(state, budget, values, committed + needed, worstCase, 'hard');
            // onBudget hears of a block budget when it starts refusing (once a period): its spend never passes the
            // limit by more than one call, so the crossing a notify budget is told of may never come. Not for a
            // refusal that only the holds of calls in flight cause (a burst at a fifth of the limit): those calls may
            // end cheaper, and the one notice of the period is kept for the spend itself.
            if (!state.hardNotified && spentUsd(state) + needed > budget.limitUsd + SLACK_USD) {
              state.hardNotified = true;
              notify(breach);
            }
            throw new BudgetExceededError(breach);
          }
          if (hold > 0) {
            state.reservedUsd += hold;
            entry.holds.push({ state, amount: hold });
          }
        }
      } catch (error) {
        release();
        throw error;
      }
      if (entry.holds.length === 0) {
        liveHolds.delete(entry);
        return undefined;
      }
      const reservation: Reservation = {
        release() {
          collected.unregister(entry);
          giveBack(entry);
        },
        holds: entry.holds,
      };
      collected.register(reservation, entry, entry);
      return reservation;
    },

    /**
     * Counts a recorded call against its budgets, tells onBudget about
     * crossings, and returns the breach `raise` must throw (after recording).
     */
    settle(call: TrackedCall, cost: number | null, item: QueuedCall | undefined): BudgetBreach | undefined {
      if (cost !== null) {
        const modelKey = dearestKey(call.provider, call.model);
        if (cost > (maxSeenCost.get(modelKey) ?? 0)) maxSeenCost.set(modelKey, cost);
      }
      let toRaise: BudgetBreach | undefined;
      for (const budget of options.budgets) {
        const values = matches(budget, call.provider, call.model, call.tags);
        if (!values) continue;
        if (budget.period === 'call') {
          if (cost !== null && cost > budget.limitUsd) {
            const breach = breachOf(undefined, budget, values, cost, cost, 'hard', call);
            notify(breach);
            if (budget.behavior === 'raise') toRaise ??= breach;
          }
          continue;
        }
        const state = stateFor(budget, values, call.occurredAt, true);
        if (!state) continue;
        // A period no admission read first (a record() without admit() at its start): read now, applied from the next call.
        if (!state.ledgerLoaded && !state.loading && Date.now() >= state.retryReadAt) load(state).catch((error: unknown) => readFailed(error, budget));
        if (cost !== null && cost > 0) {
          state.localUsd += cost;
          // Without ledger reads nothing ever takes a call over: only the sum is kept.
          if (options.sink?.readSpend) state.local.push({ cost, item });
        }
        const total = spentUsd(state);
        if (total > budget.limitUsd + SLACK_USD) {
          const breach = breachOf(state, budget, values, total, cost, 'hard', call);
          if (!state.hardNotified) {
            state.hardNotified = true;
            notify(breach);
          }
          if (budget.behavior === 'raise') toRaise ??= breach;
        } else if (budget.softThreshold !== undefined && total >= budget.limitUsd * budget.softThreshold && !state.softNotified) {
          state.softNotified = true;
          notify(breachOf(state, budget, values, total, cost, 'soft', call));
        }
      }
      return toRaise;
    },

    /** Each budget's current period, for `tracker.budgetStatus()`. */
    status(): Array<{ budget: string; scopeValues: Record<string, string>; periodStart: Date; periodEnd: Date; spentUsd: number; reservedUsd: number; limitUsd: number }> {
      expireHolds(options.now().getTime());
      return [...states.values()].map((state) => ({
        budget: state.budget.name,
        scopeValues: { ...state.scopeValues },
        periodStart: state.start,
        periodEnd: state.end,
        spentUsd: spentUsd(state),
        reservedUsd: state.reservedUsd,
        limitUsd: state.budget.limitUsd,
      }));
    },
  };
}

export type BudgetGuard = ReturnType<typeof createBudgetGuard>;
