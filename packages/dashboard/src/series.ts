import type { UsageBreakdownRow } from '@utt/postgres';
import type { Column, DataTable } from './data-table';
import { addDecimals } from './format';
import { formatLocalDate, type LocalDate, localDatesBetween } from './zoned-time';

export type DailySeries = {
  readonly days: readonly string[];
  /** Largest first; beyond `limit`, the rest is summed as "other". */
  readonly series: readonly { readonly name: string; readonly values: readonly (string | null)[] }[];
};

/**
 * Turns per-day breakdown rows (grouped by one dimension) into aligned series
 * for a chart. Values stay exact decimal strings until drawn; a day with no
 * row is null, not 0, so the table can tell "nothing" from "$0".
 */
export function toDailySeries(
  rows: readonly UsageBreakdownRow[],
  from: LocalDate,
  to: LocalDate,
  value: (row: UsageBreakdownRow) => string | null,
  limit = 8,
): DailySeries {
  const days = localDatesBetween(from, to).map(formatLocalDate);
  const dayIndex = new Map(days.map((day, index) => [day, index]));
  const groups = new Map<string, (string | null)[]>();
  for (const row of rows) {
    const index = row.period === null ? undefined : dayIndex.get(row.period);
    if (index === undefined) continue;
    const name = row.groups[0] === '' ? '(none)' : (row.groups[0] ?? '(none)');
    let values = groups.get(name);
    if (values === undefined) {
      values = days.map(() => null);
      groups.set(name, values);
    }
    values[index] = addDecimals([values[index] ?? null, value(row)]);
  }
  // Each group's total once: summed inside the comparator it would cost n log n exact additions.
  const totals = new Map([...groups.entries()].map(([name, values]) => [name, Number(addDecimals(values) ?? 0)]));
  const total = (name: string) => totals.get(name) ?? 0;
  const ranked = [...groups.entries()].sort((a, b) => total(b[0]) - total(a[0]) || a[0].localeCompare(b[0]));
  const kept = ranked.slice(0, limit).map(([name, values]) => ({ name, values }));
  const rest = ranked.slice(limit);
  if (rest.length > 0) {
    kept.push({ name: `other (${rest.length})`, values: days.map((_, index) => addDecimals(rest.map(([, values]) => values[index] ?? null))) });
  }
  return { days, series: kept };
}

/** The chart's numbers as a table: a row per day, a column per series and the day's total. */
export function seriesTable(id: string, caption: string, firstLabel: string, data: DailySeries, kind: 'usd' | 'count', empty: string): DataTable {
  const columns: Column[] = [
    { key: 'day', label: firstLabel, kind: 'text' },
    ...data.series.map((series, index) => ({ key: `s${index}`, label: series.name, kind })),
    { key: 'total', label: 'Total', kind },
  ];
  const rows = data.days.map((day, dayIndex) => {
    const row: Record<string, string | null> = { day };
    const values = data.series.map((series) => series.values[dayIndex] ?? null);
    data.series.forEach((_, index) => {
      row[`s${index}`] = values[index] ?? null;
    });
    row.total = addDecimals(values);
    return row;
  });
  return { id, caption, columns, rows: data.series.length === 0 ? [] : rows, empty };
}
