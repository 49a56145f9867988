import {
  formatScaledInteger,
  InvalidRecordError,
  type MeasurementBasis,
  parseUsageRecord,
  TOKEN_COLUMNS,
  type TokenColumn,
  toScaledInteger,
  type UsageRecord,
} from '@utt/core';
import type { ImportIssue } from './import-issue';
import { describeCellIssue } from './describe-cell-issue';
import type { ImportEvent } from './import-usage-file';
import { COST_DECIMALS, type ImportRow } from './parse-import-row';

/** Less trusted first: a cell is only as good as its weakest row. */
const TRUST: Readonly<Record<MeasurementBasis, number>> = { derived_estimate: 0, provider_aggregate: 1, exact: 2 };

type UsageCell = {
  readonly first: ImportRow;
  readonly firstLine: number;
  rows: number;
  readonly counters: Record<TokenColumn, number | null>;
  /** The exact sum of the costs given, in 10^-COST_DECIMALS dollars; only written if every row gave one. */
  cost: bigint;
  rowsWithCost: number;
  /** Costs the pricer computed for rows without one, in 10^-PRICED_DECIMALS dollars. */
  computed: bigint;
  rowsComputed: number;
  priceRefs: Set<string>;
  /** Why the pricer could not price a row of the cell (the first reason seen). */
  unpricedReason: string | null;
  basis: MeasurementBasis;
};

/** Computed costs carry more decimals than a file's (a batch discount halves the last digit). */
const PRICED_DECIMALS = 24;
const MAX_PRICE_REF_LENGTH = 500;

export type RollupResult = {
  readonly records: UsageRecord[];
  /** Cells whose cost is left NULL because only some of their rows had one. */
  readonly warnings: ImportIssue[];
  /** Cells whose sum breaks a record invariant, with the number of rows each held. */
  readonly rejected: (ImportIssue & { readonly rows: number })[];
};

/**
 * Sums rows into token_usage cells: one per key (granularity, bucket,
 * provider, model, account, api_key, user_id, labels). Memory grows with the
 * number of cells, not of rows.
 *
 * Sum rule: a counter is NULL only when every row of the cell leaves it NULL,
 * else the sum of the known values. cost_usd is summed exactly, and left NULL
 * (with a warning) when some rows of a cell have a cost and others do not. The
 * measurement_basis of a cell is the weakest of its rows.
 */
export class UsageRollup {
  readonly #cells = new Map<string, UsageCell>();

  /** Number of cells so far. */
  get size(): number {
    return this.#cells.size;
  }

  /** Adds a row, priced on its own beforehand (readImportEvents) so per-request rules applied. */
  add(row: ImportEvent): void {
    const { line } = row;
    const key = cellKey(row);
    const cell = this.#cells.get(key);
    if (cell === undefined) {
      const counters = {} as Record<TokenColumn, number | null>;
      for (const column of TOKEN_COLUMNS) counters[column] = row[column];
      this.#cells.set(key, {
        first: row,
        firstLine: line,
        rows: 1,
        counters,
        cost: row.cost_usd === null ? 0n : toScaledInteger(row.cost_usd, COST_DECIMALS),
        rowsWithCost: row.cost_usd === null ? 0 : 1,
        computed: 0n,
        rowsComputed: 0,
        priceRefs: new Set(),
        unpricedReason: null,
        basis: row.measurement_basis,
      });
      this.#price(row, this.#cells.get(key) as UsageCell);
      return;
    }
    cell.rows++;
    for (const column of TOKEN_COLUMNS) {
      const value = row[column];
      if (value !== null) cell.counters[column] = (cell.counters[column] ?? 0) + value;
    }
    if (row.cost_usd !== null) {
      cell.cost += toScaledInteger(row.cost_usd, COST_DECIMALS);
      cell.rowsWithCost++;
    }
    this.#price(row, cell);
    if (TRUST[row.measurement_basis] < TRUST[cell.basis]) cell.basis = row.measurement_basis;
  }

  #price(row: ImportEvent, cell: UsageCell): void {
    if (row.computed_cost_usd !== null) {
      cell.computed += toScaledInteger(row.computed_cost_usd, PRICED_DECIMALS);
      cell.rowsComputed++;
      if (row.price_ref !== null) cell.priceRefs.add(row.price_ref);
    } else if (row.unpriced_reason !== null) {
      cell.unpricedReason ??= row.unpriced_reason;
    }
  }

  /** The cells as validated records, in the order their first rows appeared. */
  finish(sourceInstance: string): RollupResult {
    const records: UsageRecord[] = [];
    const warnings: ImportIssue[] = [];
    const rejected: (ImportIssue & { rows: number })[] = [];
    for (const cell of this.#cells.values()) {
      const { first } = cell;
      const facts = {
        line: cell.firstLine,
        granularity: first.granularity,
        bucketStart: first.bucket_start,
        provider: first.provider,
        model: first.model,
        events: cell.rows,
        eventsWithCost: cell.rowsWithCost + cell.rowsComputed,
        unpricedReason: cell.unpricedReason,
      };
      const withCost = cell.rowsWithCost + cell.rowsComputed;
      const costKnown = withCost === cell.rows;
      const cost = !costKnown
        ? null
        : cell.rowsComputed === 0
          ? formatScaledInteger(cell.cost, COST_DECIMALS)
          : formatScaledInteger(cell.cost * 10n ** BigInt(PRICED_DECIMALS - COST_DECIMALS) + cell.computed, PRICED_DECIMALS);
      if (withCost > 0 && !costKnown) {
        warnings.push(describeCellIssue({ ...facts, field: 'cost_usd', problem: null }));
      }
      // "per-request:" tells the worker (and utt reprice) that these were priced one request at a time.
      const computedCost = cost !== null && cell.rowsComputed > 0;
      const priceRef = computedCost ? `per-request:${[...cell.priceRefs].sort().join('|')}`.slice(0, MAX_PRICE_REF_LENGTH) : undefined;
      const unpricedReason = cost === null && cell.unpricedReason !== null ? `per-request:${cell.unpricedReason}`.slice(0, MAX_PRICE_REF_LENGTH) : undefined;
      try {
        records.push(
          parseUsageRecord({
            source_instance: sourceInstance,
            granularity: first.granularity,
            bucket_start: first.bucket_start,
            provider: first.provider,
            model: first.model,
            account: first.account,
            api_key: first.api_key,
            user_id: first.user_id,
            labels: first.labels,
            ...cell.counters,
            cost_usd: cost,
            cost_source: cost === null ? null : computedCost ? 'computed' : 'provider',
            ...(priceRef === undefined ? {} : { price_ref: priceRef }),
            ...(unpricedReason === undefined ? {} : { unpriced_reason: unpricedReason }),
            measurement_basis: cell.basis,
          }),
        );
      } catch (error) {
        if (!InvalidRecordError.isInstance(error)) throw error;
        const issue = error.issues[0] ?? 'invalid record';
        const separator = issue.indexOf(': ');
        const field = separator > 0 ? issue.slice(0, separator) : 'row';
        const problem = separator > 0 ? issue.slice(separator + 2) : issue;
        rejected.push({ ...describeCellIssue({ ...facts, field, problem }), rows: cell.rows });
      }
    }
    return { records, warnings, rejected };
  }
}

function cellKey(row: ImportRow): string {
  // parseImportRow refuses NUL in text (PostgreSQL cannot store it), so it separates unambiguously.
  let key = `${row.granularity}\0${row.bucket_start.getTime()}\0${row.provider}\0${row.model}\0${row.account}\0${row.api_key}\0${row.user_id}`;
  for (const label in row.labels) key += `\0${label}\0${row.labels[label]}`; // keys already sorted
  return key;
}
