import { formatIssues, z } from '@utt/core';
import { ConfigValidationError } from '@utt/core';

const scopeSchema = z.strictObject({
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  /** token_usage.source_system; absent: every source in the ledger, not only this application. */
  source: z.string().min(1).optional(),
  /** Tag key → value; the value '*' gives every value its own limit (one budget per tenant). */
  tags: z.record(z.string().min(1), z.string().min(1)).optional(),
});

export const budgetConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Calendar day or month in the reporting time zone, or a single call. */
  period: z.enum(['day', 'month', 'call']),
  limitUsd: z.number().positive('must be more than 0').finite(),
  scope: scopeSchema.optional(),
  /** A fraction of the limit (0.8) past which `onBudget` is told, once per period; never refuses a call. */
  softThreshold: z.number().gt(0).lt(1, 'is a fraction of the limit, below 1').optional(),
  /** notify: call onBudget; raise: record, then throw BudgetExceededError; block: refuse the next call before it is sent. */
  behavior: z.enum(['notify', 'raise', 'block']).default('notify'),
});

export type BudgetConfig = z.input<typeof budgetConfigSchema>;
export type Budget = z.output<typeof budgetConfigSchema> & { readonly name: string };

export const threadBudgetConfigSchema = z.strictObject({
  /** Tokens a thread may use unless registered with its own limit (seed 004's max_tokens_per_thread). */
  defaultMaxTokens: z.number().int().positive().optional(),
});

export type ThreadBudgetConfig = z.input<typeof threadBudgetConfigSchema>;
export type ThreadBudget = z.output<typeof threadBudgetConfigSchema>;

/** Validates `budgets:` once at start; errors name the entry and field, never a value. */
export function parseBudgets(input: unknown, base = 'budgets'): Budget[] {
  const result = z.array(budgetConfigSchema).safeParse(input ?? []);
  if (!result.success) throw new ConfigValidationError({ issues: formatIssues(result.error.issues, base) });
  const names = new Set<string>();
  return result.data.map((budget, index) => {
    const name = budget.name ?? defaultName(budget);
    if (names.has(name)) throw new ConfigValidationError({ issues: [`${base}[${index}].name: another budget is already called ${JSON.stringify(name)}`] });
    names.add(name);
    return { ...budget, name };
  });
}

function defaultName(budget: z.output<typeof budgetConfigSchema>): string {
  const scope = budget.scope ?? {};
  const parts = [
    scope.source && `source=${scope.source}`,
    scope.provider && `provider=${scope.provider}`,
    scope.model && `model=${scope.model}`,
    ...Object.entries(scope.tags ?? {}).map(([key, value]) => `${key}=${value}`),
  ].filter(Boolean);
  return `${budget.period}${parts.length > 0 ? `[${parts.join(',')}]` : ''}`;
}

function isTimeZone(timeZone: string): boolean {
  // Every Intl knows UTC (ECMA-402), the default: the first DateTimeFormat loads the ICU zone data (10–15 ms of each start).
  if (timeZone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** `reportingTimeZone:` of a utt config: the IANA zone of budget periods (and the dashboard's days and months). */
export const reportingTimeZoneSchema = z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone name such as UTC or Europe/Berlin');

/** A time zone Intl knows, or a readable error naming the option. */
export function validateTimeZone(timeZone: string, option: string): string {
  if (!isTimeZone(timeZone)) throw new ConfigValidationError({ issues: [`${option}: not an IANA time zone (e.g. UTC, Europe/Berlin)`] });
  return timeZone;
}
