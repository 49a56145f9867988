import type { SpendQueryV1, SpendScopeV1 } from '@utt/core';
import { type Budget, type BudgetConfig, parseBudgets, validateTimeZone } from './budget-config';
import { calendarPeriod } from './calendar-period';

/**
 * What readBudgetStatus needs of the ledger. `openStore()` of @utt/postgres
 * is one; any store that can answer both questions over token_usage is too.
 */
export type BudgetLedger = {
  /** USD spend per query over every source in scope, as decimal text. */
  readSpend(queries: readonly SpendQueryV1[]): Promise<readonly string[]>;
  /**
   * Per query, the rows in scope with usage but no cost (an unpriced model, a tracker hour with an unpriced call):
   * readSpend counts only what is priced, so the spent is then a lower bound. Optional: without it, 0 is reported.
   */
  readUnpricedUsage?(queries: readonly SpendQueryV1[]): Promise<readonly number[]>;
  /** The distinct value combinations of label `keys` among rows in [start, end) within `scope`. */
  readLabelValues(query: { start: Date; end: Date; keys: readonly string[]; scope?: SpendScopeV1; calendar?: SpendQueryV1['calendar'] }): Promise<ReadonlyArray<Record<string, string>>>;
};

/** One day or month budget (one per `*` tag value seen this period) against the ledger's spend in its current period. */
export type BudgetStatus = {
  readonly budget: string;
  readonly period: 'day' | 'month';
  /** The tag values of a `*` scope (`{ tenant: 'acme' }`); empty otherwise. */
  readonly scopeValues: Record<string, string>;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly spentUsd: number;
  readonly limitUsd: number;
  readonly percent: number;
  /**
   * Spend at the period's end if usage goes on at its rate so far: the flat
   * fees paid this period (cost_source `fixed`) as they are, the rest
   * extrapolated linearly (a seat fee paid on the 1st is not a daily rate).
   * Before FORECAST_MIN_ELAPSED_SHARE of the period has passed
   * (`forecastBasis` 'too_early'), the spend so far: a few minutes' rate
   * says nothing about a whole day.
   */
  readonly forecastUsd: number;
  /**
   * 'linear': forecastUsd extrapolates the spend so far. 'too_early': less
   * than FORECAST_MIN_ELAPSED_SHARE of the period has passed, so forecastUsd
   * is the spend so far (a floor, not a forecast) and never makes the state
   * 'forecast over'.
   */
  readonly forecastBasis: 'linear' | 'too_early';
  /** When the forecast starts extrapolating (ISO): the period's start plus FORECAST_MIN_ELAPSED_SHARE of it. */
  readonly forecastFrom: string;
  readonly state: 'ok' | 'soft' | 'forecast over' | 'OVER';
  /**
   * Rows of usage in scope this period that have no price (never counted as
   * $0: spentUsd counts what is priced, so it is a lower bound when this is
   * above 0). 0 when the ledger cannot tell (no readUnpricedUsage).
   */
  readonly unpricedRows: number;
  /** The highest mark the spend has reached: the limit, the soft threshold, or neither. */
  readonly crossed: 'limit' | 'soft' | null;
};

export type BudgetStatusOptions = {
  /** The instant whose calendar periods are read (default: now). */
  readonly now?: Date;
  /** The reporting time zone of the calendar periods (IANA; default UTC). */
  readonly timeZone?: string;
};

/**
 * The share of a period that must have passed before its spend is
 * extrapolated to the period's end: 10 %, i.e. 2 h 24 min of a day, about 3
 * days of a month. Five minutes into a day a straight line multiplies the
 * spend by 288: a burst at 00:05, or the first batch of the day, would read
 * as "forecast over" on every quiet morning. Early overspend is what the
 * limit itself (OVER) and a soft threshold are for.
 */
export const FORECAST_MIN_ELAPSED_SHARE = 0.1;

/**
 * Every day and month budget against the spend the ledger holds for its
 * current calendar period in `timeZone` — every source in scope, not only
 * tracked calls — with a forecast to the period's end (flat fees as paid,
 * the rest extrapolated linearly, once FORECAST_MIN_ELAPSED_SHARE of the
 * period has passed). What `utt
 * budget` prints, the `budget` alert rule watches and the dashboard shows.
 * Per-call budgets have no period total and are left out. Budgets are
 * validated as in the config (ConfigValidationError naming the field).
 */
export async function readBudgetStatus(ledger: BudgetLedger, budgets: readonly BudgetConfig[], options: BudgetStatusOptions = {}): Promise<BudgetStatus[]> {
  const parsed = parseBudgets(budgets);
  const now = options.now ?? new Date();
  const timeZone = validateTimeZone(options.timeZone ?? 'UTC', 'reportingTimeZone');
  const lines: BudgetStatus[] = [];
  for (const budget of parsed) {
    if (budget.period === 'call') continue;
    const period = calendarPeriod(now, budget.period, timeZone);
    const calendar = { period: budget.period, timeZone };
    for (const scopeValues of await scopeValuesOf(ledger, budget, { ...period, calendar })) {
      const query = { start: period.start, end: period.end, scope: spendScope(budget, scopeValues), calendar };
      const [spent, flatFees] = await ledger.readSpend([query, { ...query, flatFeesOnly: true }]);
      const unpriced = ledger.readUnpricedUsage ? await ledger.readUnpricedUsage([query]) : [0];
      const spentUsd = Number(spent ?? 0);
      const flatFeesUsd = Number(flatFees ?? 0);
      const length = period.end.getTime() - period.start.getTime();
      const elapsed = Math.max(1, Math.min(now.getTime(), period.end.getTime()) - period.start.getTime());
      const forecastBasis = elapsed >= length * FORECAST_MIN_ELAPSED_SHARE ? 'linear' : 'too_early';
      const forecastUsd = forecastBasis === 'linear' ? flatFeesUsd + ((spentUsd - flatFeesUsd) * length) / elapsed : spentUsd;
      const crossed =
        spentUsd > budget.limitUsd ? 'limit' : budget.softThreshold !== undefined && spentUsd >= budget.limitUsd * budget.softThreshold ? 'soft' : null;
      lines.push({
        budget: budget.name,
        period: budget.period,
        scopeValues,
        periodStart: period.start.toISOString(),
        periodEnd: period.end.toISOString(),
        spentUsd,
        limitUsd: budget.limitUsd,
        percent: (spentUsd / budget.limitUsd) * 100,
        forecastUsd,
        forecastBasis,
        forecastFrom: new Date(period.start.getTime() + Math.ceil(length * FORECAST_MIN_ELAPSED_SHARE)).toISOString(),
        state: crossed === 'limit' ? 'OVER' : forecastUsd > budget.limitUsd ? 'forecast over' : crossed === 'soft' ? 'soft' : 'ok',
        unpricedRows: Number(unpriced?.[0] ?? 0),
        crossed,
      });
    }
  }
  return lines;
}

function spendScope(budget: Budget, scopeValues: Record<string, string>): SpendScopeV1 {
  return {
    provider: budget.scope?.provider,
    model: budget.scope?.model,
    sourceSystem: budget.scope?.source,
    labels: budget.scope?.tags ? { ...budget.scope.tags, ...scopeValues } : undefined,
  };
}

/** One entry for a budget without `*` tags; one per tag value seen this period within the budget's other scope otherwise. */
async function scopeValuesOf(
  ledger: BudgetLedger,
  budget: Budget,
  period: { start: Date; end: Date; calendar: NonNullable<SpendQueryV1['calendar']> },
): Promise<Array<Record<string, string>>> {
  const tags = Object.entries(budget.scope?.tags ?? {});
  const starred = tags.filter(([, value]) => value === '*').map(([key]) => key);
  if (starred.length === 0) return [{}];
  const fixed = Object.fromEntries(tags.filter(([, value]) => value !== '*'));
  const scope: SpendScopeV1 = {
    provider: budget.scope?.provider,
    model: budget.scope?.model,
    sourceSystem: budget.scope?.source,
    labels: Object.keys(fixed).length > 0 ? fixed : undefined,
  };
  const values = await ledger.readLabelValues({ start: period.start, end: period.end, keys: starred, scope, calendar: period.calendar });
  return values.map((entry) => ({ ...entry })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
