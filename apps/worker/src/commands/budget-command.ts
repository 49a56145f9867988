import { ConfigValidationError } from '@utt/core';
import { type Budget, FORECAST_MIN_ELAPSED_SHARE, parseBudgets, readBudgetStatus } from '@utt/tracker';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { formatTable, formatUsd } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';

/**
 * `utt budget`: every day and month budget of the config against the spend
 * the ledger holds for its current period (every source in scope, not only
 * tracked calls), with a forecast to the period's end (flat fees as paid, the
 * rest extrapolated linearly). Per-call budgets are enforced in process only
 * and are listed as such. Exit 2 when a budget is over its limit, so cron can
 * alert.
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
    const lines = (await readBudgetStatus(store, budgets, { now, timeZone })).map(({ crossed, ...line }) => line);
    const perCall = budgets.filter((budget) => budget.period === 'call');
    // A budget per tag value ('*') has a line per value seen this period: none before the first spend, which is said, not left out.
    const noSpendYet = budgets.filter((budget) => budget.period !== 'call' && !lines.some((line) => line.budget === budget.name));
    // A zone whose offset is not a whole hour (Asia/Kolkata, Asia/Kathmandu, Australia/Adelaide) starts its days inside a UTC hour.
    const cutHour = lines.find((line) => Date.parse(line.periodStart) % HOUR_MS !== 0 || Date.parse(line.periodEnd) % HOUR_MS !== 0);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            timeZone,
            periodEdgesCutUtcHours: cutHour !== undefined,
            budgets: lines,
            noSpendYet: noSpendYet.map((budget) => budget.name),
            perCallBudgets: perCall.map((budget) => ({ budget: budget.name, limitUsd: budget.limitUsd })),
          },
          null,
          2,
        )}\n`,
      );
    } else if (budgets.length === 0) {
      process.stdout.write('no budgets configured (add `budgets:` to the config)\n');
    } else {
      const byName = new Map(budgets.map((budget) => [budget.name, budget]));
      if (lines.length > 0) {
        process.stdout.write(
          `${formatTable(
            ['budget', 'scope', `period (${timeZone})`, 'spent', 'limit', '%', 'forecast', 'state'],
            lines.map((line) => [
              line.budget,
              scopeText(byName.get(line.budget), line.scopeValues),
              `${line.period} from ${line.periodStart.slice(0, 16)}Z`,
              budgetUsd(line.spentUsd),
              budgetUsd(line.limitUsd),
              `${line.percent.toFixed(1)}%`,
              line.forecastBasis === 'too_early' ? 'too early' : budgetUsd(line.forecastUsd),
              line.state,
            ]),
          )}\n`,
        );
      }
      for (const budget of noSpendYet) {
        const starred = Object.entries(budget.scope?.tags ?? {}).filter(([, value]) => value === '*').map(([key]) => key);
        process.stdout.write(`${budget.name}: no spend in scope this period yet (a line for each ${starred.join(' and ')} value once there is)\n`);
      }
      // Said once per budget: a '*' budget's lines share the period.
      const tooEarly = new Map(lines.filter((line) => line.forecastBasis === 'too_early').map((line) => [line.budget, line]));
      for (const line of tooEarly.values()) {
        process.stdout.write(
          `${line.budget}: too early in the ${line.period} to forecast (less than ${FORECAST_MIN_ELAPSED_SHARE * 100}% of it has passed); extrapolated from ${line.forecastFrom.slice(0, 16)}Z\n`,
        );
      }
      for (const line of lines) {
        if (line.unpricedRows === 0) continue;
        const scope = Object.keys(line.scopeValues).length > 0 ? ` (${Object.entries(line.scopeValues).map(([key, value]) => `${key}=${value}`).join(',')})` : '';
        const rows = line.unpricedRows === 1 ? '1 row of usage in scope has' : `${line.unpricedRows} rows of usage in scope have`;
        process.stdout.write(`${line.budget}${scope}: ${rows} no cost (no price, or calls whose usage never arrived), so its spent is a lower bound (utt prices check says which)\n`);
      }
      if (cutHour) {
        process.stdout.write(
          `${timeZone}: periods start inside a UTC hour (${cutHour.periodStart.slice(11, 16)}Z). Tracked calls still stored count by their own time, exactly; ` +
            "other sources' hourly rows, and tracked hours whose calls were pruned, count by the UTC hour they start in " +
            `(their first ${60 - Math.round((Date.parse(cutHour.periodStart) % HOUR_MS) / 60_000)} minutes of a period count toward the one before)\n`,
        );
      }
      for (const budget of perCall) process.stdout.write(`${budget.name}: $${budget.limitUsd} per call, enforced in process by @utt/tracker\n`);
    }
    return lines.some((line) => line.state === 'OVER') ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    await store.close();
  }
}

const HOUR_MS = 3_600_000;

/** Dollars as a budget line shows them: cents from $1 up, four decimals below (a $0.01 budget's spend is not "$0.01" at 78 %). */
function budgetUsd(value: number): string {
  return value !== 0 && Math.abs(value) < 1 ? `$${value.toFixed(4)}` : formatUsd(String(value));
}

/** A budget's whole scope (source, provider, model, tags), a '*' tag shown with the value of this line. */
function scopeText(budget: Budget | undefined, scopeValues: Record<string, string>): string {
  const scope = budget?.scope ?? {};
  const parts = [
    scope.source !== undefined ? `source=${scope.source}` : '',
    scope.provider !== undefined ? `provider=${scope.provider}` : '',
    scope.model !== undefined ? `model=${scope.model}` : '',
    ...Object.entries(scope.tags ?? {}).map(([key, value]) => `${key}=${scopeValues[key] ?? value}`),
  ].filter((part) => part !== '');
  return parts.join(',') || '-';
}
