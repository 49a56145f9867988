import type { Logger, SpendQueryV1, TrackerSinkV1 } from '@utt/core';
import type { QueuedCall } from '../call-queue';
import type { TrackedCall } from '../tracked-call';
import type { Budget } from './budget-config';
import { type BudgetBreach, BudgetExceededError } from './budget-exceeded-error';
import { calendarPeriod } from './calendar-period';

/** What the guard knows about a call before it is sent. */
export type CallIntent = {
  readonly provider: string;
  readonly model: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The most the call can cost (input estimate + max output tokens, priced), or null when unknown. */
  readonly worstCaseUsd: number | null;
};

/** A hold on budget for a call in flight; released when the call is recorded or fails. */
export type Reservation = { release(): void; readonly holds: readonly Hold[] };
type Hold = { state: PeriodState; amount: number; exclusive?: () => void };

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
  /** Calls this process recorded that the last ledger read did not include. */
  local: LocalSpend[];
  reservedUsd: number;
  /** A call whose worst case is unknown holds the budget alone until it is recorded. */
  exclusive: Promise<void> | undefined;
  softNotified: boolean;
  hardNotified: boolean;
};

export type BudgetGuardOptions = {
  readonly budgets: readonly Budget[];
  readonly timeZone: string;
  readonly sourceSystem: string;
  readonly sink: TrackerSinkV1 | undefined;
  readonly refreshIntervalMs: number;
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
 * period's spend = what the ledger said at the last refresh (every source in
 * scope) + what this process recorded since that the read did not include +
 * the worst case of calls in flight. `block` refuses a call before it is sent
 * when that sum plus the call's own worst case would pass the limit, so
 * within one process a concurrent burst cannot overspend by more than the
 * amount a call exceeds its estimate; a call whose worst case is unknown
 * holds the budget alone until it is recorded (at most one such call over).
 */
export function createBudgetGuard(options: BudgetGuardOptions) {
  const states = new Map<string, PeriodState>();
  const maxSeenCost = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const matches = (budget: Budget, provider: string, model: string, tags: Readonly<Record<string, string>>): Record<string, string> | undefined => {
    const scope = budget.scope;
    if (!scope) return {};
    if (scope.source !== undefined && scope.source !== options.sourceSystem) return undefined;
    if (scope.provider !== undefined && scope.provider.toLowerCase() !== provider.toLowerCase()) return undefined;
    if (scope.model !== undefined && scope.model !== model) return undefined;
    const values: Record<string, string> = {};
    for (const [key, wanted] of Object.entries(scope.tags ?? {})) {
      const value = tags[key];
      if (value === undefined || (wanted !== '*' && wanted !== value)) return undefined;
      values[key] = value;
    }
    return values;
  };

  const stateFor = (budget: Budget, scopeValues: Record<string, string>, at: Date): PeriodState | undefined => {
    if (budget.period === 'call') return undefined;
    const period = calendarPeriod(at, budget.period, options.timeZone);
    const key = `${budget.name}\u0000${JSON.stringify(scopeValues)}`;
    let state = states.get(key);
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
        reservedUsd: 0,
        exclusive: undefined,
        softNotified: false,
        hardNotified: false,
      };
      states.set(key, state);
    }
    return state;
  };

  const spentUsd = (state: PeriodState) => state.ledgerUsd + sum(state.local);

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
    const values = await readSpend.call(options.sink, selected.map(query));
    selected.forEach((state, index) => {
      state.ledgerUsd = Number(values[index] ?? 0);
      state.ledgerLoaded = true;
      // Calls written before the read began are in the ledger figure now.
      state.local = state.local.filter((spend) => !(spend.item && spend.item.committedEpoch > 0 && spend.item.committedEpoch <= epoch));
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
    /** Starts the periodic ledger refresh (unref'd) and reads the ledger once. */
    async start(): Promise<void> {
      if (!options.sink?.readSpend || options.budgets.every((budget) => budget.period === 'call')) return;
      const tick = () => {
        timer = setTimeout(() => {
          refresh()
            .catch((error) => options.logger.warn('utt tracker: reading budget spend from the ledger failed', { error: error instanceof Error ? error.message : String(error) }))
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
     * Checks every block budget the call falls under and holds its worst case.
     * Throws BudgetExceededError (nothing is sent) when a limit would be passed.
     */
    async reserve(intent: CallIntent): Promise<Reservation | undefined> {
      const blocking = options.budgets.filter((budget) => budget.behavior === 'block');
      if (blocking.length === 0) return undefined;
      const now = options.now();
      const worstCase = intent.worstCaseUsd ?? maxSeenCost.get(`${intent.provider}\u0000${intent.model}`) ?? null;
      const holds: Hold[] = [];
      const release = () => {
        for (const hold of holds.splice(0)) {
          hold.state.reservedUsd -= hold.amount;
          hold.exclusive?.();
        }
      };
      try {
        for (const budget of blocking) {
          const values = matches(budget, intent.provider, intent.model, intent.tags);
          if (!values) continue;
          if (budget.period === 'call') {
            if (worstCase !== null && worstCase > budget.limitUsd + SLACK_USD) throw new BudgetExceededError(breachOf(undefined, budget, values, worstCase, worstCase, 'hard'));
            continue;
          }
          let state = stateFor(budget, values, now) as PeriodState;
          while (state.exclusive) {
            await state.exclusive;
            state = stateFor(budget, values, options.now()) as PeriodState;
          }
          if (!state.ledgerLoaded) {
            try {
              await refresh([state]);
            } catch (error) {
              options.logger.warn('utt tracker: reading budget spend from the ledger failed', { budget: budget.name, error: error instanceof Error ? error.message : String(error) });
              if (options.failMode === 'closed') throw new BudgetExceededError(breachOf(state, budget, values, Number.NaN, worstCase, 'hard'));
            }
          }
          const committed = spentUsd(state) + state.reservedUsd;
          const hold = worstCase ?? 0;
          if (committed >= budget.limitUsd - SLACK_USD || committed + hold > budget.limitUsd + SLACK_USD) {
            throw new BudgetExceededError(breachOf(state, budget, values, committed + hold, worstCase, 'hard'));
          }
          if (worstCase === null) {
            // Unknown worst case: let this call run alone, so the burst overspends by at most this one call.
            let done!: () => void;
            state.exclusive = new Promise<void>((resolve) => {
              done = resolve;
            });
            const current = state;
            holds.push({ state, amount: 0, exclusive: () => {
              if (current.exclusive) current.exclusive = undefined;
              done();
            } });
          } else {
            state.reservedUsd += hold;
            holds.push({ state, amount: hold });
          }
        }
      } catch (error) {
        release();
        throw error;
      }
      return holds.length > 0 ? { release, holds } : undefined;
    },

    /**
     * Counts a recorded call against its budgets, tells onBudget about
     * crossings, and returns the breach `raise` must throw (after recording).
     */
    settle(call: TrackedCall, cost: number | null, item: QueuedCall | undefined): BudgetBreach | undefined {
      if (cost !== null) {
        const modelKey = `${call.provider}\u0000${call.model}`;
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
        const state = stateFor(budget, values, call.occurredAt) as PeriodState;
        if (cost !== null && cost > 0) state.local.push({ cost, item });
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
