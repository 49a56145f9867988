import { ConfigValidationError, type SpendQueryV1 } from '@utt/core';
import type { UsageStore } from '@utt/postgres';
import { type Budget, calendarPeriod, parseBudgets } from '@utt/tracker';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { formatTable } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';

export type BudgetLine = {
  budget: string;
  period: 'day' | 'month';
  scopeValues: Record<string, string>;
  periodStart: string;
  periodEnd: string;
  spentUsd: number;
  limitUsd: number;
  percent: number;
  /** Spend at the period's end if it goes on at the rate so far. */
  forecastUsd: number;
  state: 'ok' | 'soft' | 'forecast over' | 'OVER';
};

/**
 * `utt budget`: every day and month budget of the config against the spend
 * the ledger holds for its current period (every source in scope, not only
 * tracked calls), with a linear forecast to the period's end. Per-call
 * budgets are enforced in process only and are listed as such. Exit 2 when a
 * budget is over its limit, so cron can alert.
 */
export async function budgetCommand(runtime: Runtime, flags: { json?: boolean; now?: Date }): Promise<number> {
  const { config } = runtime.loaded;
  const budgets = parseBudgets(config.budgets);
  const timeZone = config.reportingTimeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ConfigValidationError({ issues: ['reportingTimeZone: not an IANA time zone (e.g. UTC, Europe/Berlin)'], file: runtime.loaded.file });
  }
  const now = flags.now ?? new Date();
  const store = await openConfiguredStore(runtime);
  try {
    const lines = (await budgetPeriodTotals(store, budgets, now, timeZone)).map(({ crossed, ...line }) => line);
    const perCall = budgets.filter((budget) => budget.period === 'call');
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ timeZone, budgets: lines, perCallBudgets: perCall.map((budget) => ({ budget: budget.name, limitUsd: budget.limitUsd })) }, null, 2)}\n`);
    } else if (budgets.length === 0) {
      process.stdout.write('no budgets configured (add `budgets:` to the config)\n');
    } else {
      const money = (value: number) => `$${value.toFixed(2)}`;
      process.stdout.write(
        `${formatTable(
          ['budget', 'scope', `period (${timeZone})`, 'spent', 'limit', '%', 'forecast', 'state'],
          lines.map((line) => [
            line.budget,
            Object.entries(line.scopeValues).map(([key, value]) => `${key}=${value}`).join(',') || '-',
            `${line.period} from ${line.periodStart.slice(0, 16)}Z`,
            money(line.spentUsd),
            money(line.limitUsd),
            `${line.percent.toFixed(1)}%`,
            money(line.forecastUsd),
            line.state,
          ]),
        )}\n`,
      );
      for (const budget of perCall) process.stdout.write(`${budget.name}: $${budget.limitUsd} per call, enforced in process by @utt/tracker\n`);
    }
    return lines.some((line) => line.state === 'OVER') ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    await store.close();
  }
}

/** A budget line with the highest mark its spend has reached: the limit, the soft threshold, or neither. */
export type BudgetPeriodTotal = BudgetLine & { readonly crossed: 'limit' | 'soft' | null };

/**
 * Every day and month budget (one line per `*` tag value seen) against the
 * ledger's spend in its current calendar period in `timeZone`: what
 * `utt budget` prints and the `budget` alert rule watches.
 */
export async function budgetPeriodTotals(store: UsageStore, budgets: readonly Budget[], now: Date, timeZone: string): Promise<BudgetPeriodTotal[]> {
  const lines: BudgetPeriodTotal[] = [];
  for (const budget of budgets) {
    if (budget.period === 'call') continue;
    const period = calendarPeriod(now, budget.period, timeZone);
    for (const scopeValues of await scopeValuesOf(store, budget, period)) {
      const query: SpendQueryV1 = {
        start: period.start,
        end: period.end,
        scope: {
          provider: budget.scope?.provider,
          model: budget.scope?.model,
          sourceSystem: budget.scope?.source,
          labels: budget.scope?.tags ? { ...budget.scope.tags, ...scopeValues } : undefined,
        },
      };
      const [spent] = await store.readSpend([query]);
      const spentUsd = Number(spent ?? 0);
      const elapsed = Math.max(1, Math.min(now.getTime(), period.end.getTime()) - period.start.getTime());
      const forecastUsd = (spentUsd * (period.end.getTime() - period.start.getTime())) / elapsed;
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
        state: crossed === 'limit' ? 'OVER' : forecastUsd > budget.limitUsd ? 'forecast over' : crossed === 'soft' ? 'soft' : 'ok',
        crossed,
      });
    }
  }
  return lines;
}

/** One entry for a budget without `*` tags; one per label value seen this period otherwise. */
async function scopeValuesOf(store: UsageStore, budget: Budget, period: { start: Date; end: Date }): Promise<Array<Record<string, string>>> {
  const starred = Object.entries(budget.scope?.tags ?? {})
    .filter(([, value]) => value === '*')
    .map(([key]) => key);
  if (starred.length === 0) return [{}];
  const rows = await store.client.query<{ values: Record<string, string> }>(
    `SELECT DISTINCT jsonb_object_agg(key, labels->>key) AS values
     FROM "${store.schema}".token_usage, unnest($3::text[]) AS key
     WHERE bucket_start >= $1 AND bucket_start < $2 AND labels ?& $3::text[]
     GROUP BY id`,
    [period.start.toISOString(), period.end.toISOString(), starred],
  );
  return rows.map((row) => row.values).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
