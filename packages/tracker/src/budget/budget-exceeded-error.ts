import { UttError } from '@utt/core';
import type { TrackedCall } from '../tracked-call';

const NAME = 'UTT_BudgetExceededError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** What a budget said when it was crossed (also what `onBudget` receives). */
export type BudgetBreach = {
  /** The budget's name (its config `name`, or one made from period and scope). */
  readonly budget: string;
  readonly budgetType: 'day' | 'month' | 'call';
  readonly behavior: 'notify' | 'raise' | 'block';
  /** 'soft' when only the soft threshold was crossed (an alert, never a refusal). */
  readonly level: 'soft' | 'hard';
  readonly limitUsd: number;
  /**
   * Spend of the period so far, this call included (for `call` budgets, the call's cost); NaN when a `block` budget
   * with `budgetFailMode: 'closed'` refused because the ledger could not be read (the error's `cause` says why).
   */
  readonly periodTotalUsd: number;
  /** This call's cost, or its reserved worst case when the call was refused before it was sent. */
  readonly callCostUsd: number | null;
  /** The calendar period [start, end) in the reporting time zone; absent for per-call budgets. */
  readonly periodStart?: Date;
  readonly periodEnd?: Date;
  /** The tag values a per-tag budget matched (`{ tenant: 'acme' }`). */
  readonly scopeValues: Readonly<Record<string, string>>;
  /** The recorded call (absent when the call was refused before it was sent). */
  readonly event?: TrackedCall;
};

/**
 * A USD budget was crossed: thrown after the call is recorded (`raise`), or
 * before the call is sent (`block`, nothing reaches the provider).
 */
export class BudgetExceededError extends UttError {
  private readonly [SYMBOL] = true;
  readonly breach: BudgetBreach;
  readonly budgetType: BudgetBreach['budgetType'];
  readonly limitUsd: number;
  readonly periodTotalUsd: number;
  readonly callCostUsd: number | null;
  readonly event: TrackedCall | undefined;

  constructor(breach: BudgetBreach, options: { cause?: unknown } = {}) {
    const what = Number.isNaN(breach.periodTotalUsd)
      ? `refused before sending: the spend of ${breach.budget} could not be read from the ledger, and budgetFailMode is 'closed' (the cause is this error's cause)`
      : breach.behavior === 'block'
        ? `refused before sending: ${breach.budget} would reach $${format(breach.periodTotalUsd)} of $${format(breach.limitUsd)}`
        : `${breach.budget} is at $${format(breach.periodTotalUsd)} of $${format(breach.limitUsd)}`;
    super({ name: NAME, message: `budget exceeded (${breach.budgetType}): ${what}`, cause: options.cause });
    this.breach = breach;
    this.budgetType = breach.budgetType;
    this.limitUsd = breach.limitUsd;
    this.periodTotalUsd = breach.periodTotalUsd;
    this.callCostUsd = breach.callCostUsd;
    this.event = breach.event;
  }

  static override isInstance(error: unknown): error is BudgetExceededError {
    return UttError.carries(error, MARKER);
  }
}

function format(value: number): string {
  return value.toFixed(value < 1 ? 6 : 2);
}
