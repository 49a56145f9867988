// The tracker.
export { createTracker, type CallPlan, type CallTicket, type Tracker, type TrackerOptions, type TrackerStats } from './create-tracker';
export type { CallUsage, TrackedCall, UsageOrigin } from './tracked-call';
export type { CallContext } from './tracker-context';
export type { UsageTotals } from './usage-totals';

// Budgets.
export {
  type Budget,
  type BudgetConfig,
  budgetConfigSchema,
  parseBudgets,
  reportingTimeZoneSchema,
  type ThreadBudget,
  type ThreadBudgetConfig,
  threadBudgetConfigSchema,
} from './budget/budget-config';
export { type ConfigBudgets, loadBudgetsFromConfig, type LoadBudgetsFromConfigOptions } from './budget/load-budgets-from-config';
export { calendarPeriod, type CalendarPeriod } from './budget/calendar-period';
export { type BudgetLedger, type BudgetStatus, type BudgetStatusOptions, FORECAST_MIN_ELAPSED_SHARE, readBudgetStatus } from './budget/budget-status';
export { type BudgetBreach, BudgetExceededError } from './budget/budget-exceeded-error';
export { BudgetExhaustedError } from './budget/budget-exhausted-error';

// Capturing calls of clients the tracker does not wrap.
export { createTrackedFetch, type TrackedFetchOptions } from './capture/tracked-fetch';
export { type StreamDialect, type StreamUsageCollector, trackStream, type TrackStreamOptions } from './track-stream';

export { VERSION } from './version';
