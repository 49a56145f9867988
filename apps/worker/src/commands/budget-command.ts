import { ConfigValidationError } from '@utt/core';
import { parseBudgets, readBudgetStatus } from '@utt/tracker';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { formatTable } from '../output/format-table';
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
