import type { UsageBreakdownRow } from '@utt/postgres';
import { addDecimals } from './format';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const COUNTERS = ['inputTokens', 'outputTokens', 'cachedReadTokens', 'cachedWriteTokens', 'cachedWrite1hTokens', 'reasoningTokens', 'requests', 'cacheReportingInputTokens'] as const;
const MONEY = ['spendUsd', 'meteredUsd', 'flatFeeUsd', 'coveredUsd'] as const;

function nullableSum(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

/**
 * Re-aggregates breakdown rows in memory, the way SQL SUM would: a counter no
 * row reported stays null, money stays exact. Pages ask the store once at the
 * finest grouping they show and derive the coarser views from it, so a page
 * reads each row of token_usage once.
 */
export function sumRows(
  rows: readonly UsageBreakdownRow[],
  key: (row: UsageBreakdownRow) => { period: string | null; groups: readonly string[] },
): UsageBreakdownRow[] {
  const sums = new Map<string, Mutable<UsageBreakdownRow>>();
  for (const row of rows) {
    const target = key(row);
    // NUL cannot occur in a PostgreSQL text value, so the joined key is unambiguous.
    const id = `${target.period ?? '\u0001'}\u0000${target.groups.join('\u0000')}`;
    const existing = sums.get(id);
    if (existing === undefined) {
      sums.set(id, { ...row, period: target.period, groups: [...target.groups] });
      continue;
    }
    for (const counter of COUNTERS) existing[counter] = nullableSum(existing[counter], row[counter]);
    for (const money of MONEY) existing[money] = addDecimals([existing[money], row[money]]);
    existing.unpricedRows += row.unpricedRows;
    existing.unpricedTokens += row.unpricedTokens;
    existing.rowCount += row.rowCount;
  }
  return [...sums.values()];
}
