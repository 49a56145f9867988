import {
  type Granularity,
  InvalidRecordError,
  KEY_COLUMNS,
  type MeasurementBasis,
  TOKEN_COLUMNS,
  type TokenColumn,
  type UsageAdapterV1PricePlan,
} from '@utt/core';
import { lockInstanceWrite } from './lock-source-write';
import { DEFAULT_PARTIAL_CELL_LIMIT, PARTIAL_COLUMNS, partialCellChunks } from './partial-cells';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';
import { replacementAssignments } from './upsert-usage-rows';

/**
 * One usage event (a request, a line of an export) before roll-up: its
 * bucket_start already floored to its granularity, counters NULL where the
 * source leaves them empty (invariant 2).
 */
export type UsageEvent = {
  /** Where the event came from (a file's line), reported with the cell it falls in. */
  readonly line: number;
  readonly granularity: Granularity;
  readonly bucket_start: Date;
  readonly provider: string;
  readonly model: string;
  readonly account: string;
  readonly api_key: string;
  readonly user_id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The cost the source gave, as an exact decimal string. */
  readonly cost_usd: string | null;
  /** The cost utt computed for this one event (when the source gave none). */
  readonly computed_cost_usd?: string | null;
  /** The price behind computed_cost_usd. */
  readonly price_ref?: string | null;
  /**
   * Instead of computed_cost_usd: the plan the pricer quoted for this one
   * event (`pricer.quote`). The tokens of a cell's events are summed per plan
   * and each sum priced once, which equals pricing each event and summing;
   * the cell's price_ref lists the plans' priceRefs.
   */
  readonly price_plan?: UsageAdapterV1PricePlan | null;
  /** Why the event could not be priced. */
  readonly unpriced_reason?: string | null;
  readonly measurement_basis: MeasurementBasis;
} & { readonly [column in TokenColumn]: number | null };

/** A cell worth a look (a partial cost) or refused (its sum breaks a record rule). */
export type UsageCellIssue = {
  /** The smallest `line` among the cell's events. */
  readonly line: number;
  readonly field: string;
  readonly granularity: Granularity;
  readonly bucketStart: Date;
  readonly provider: string;
  readonly model: string;
  /** Events summed into the cell. */
  readonly events: number;
  /** Partial cost: events with a cost, given or computed. */
  readonly eventsWithCost: number;
  /** Partial cost: the first reason an event of the cell could not be priced. */
  readonly unpricedReason: string | null;
  /** Refused cell: what the sum breaks, e.g. "is part of output_tokens and cannot exceed it". */
  readonly problem: string | null;
};

/** What the roll-up found, handed to `review` before anything is written. */
export type UsageEventRollup = {
  readonly events: number;
  readonly cells: number;
  /** Cells whose cost is left NULL because only some of their events had one (the first ISSUE_LIMIT). */
  readonly partialCostCells: readonly UsageCellIssue[];
  readonly partialCostCellCount: number;
  /** Cells not written because their sum breaks a record rule (the first ISSUE_LIMIT). */
  readonly refusedCells: readonly UsageCellIssue[];
  readonly refusedCellCount: number;
  /** Events in the refused cells. */
  readonly refusedEvents: number;
  /** Written cells left without a cost that have a reason (unpriced is a state, never $0). */
  readonly unpricedCells: number;
};

export type UsageEventImport = {
  readonly sourceSystem: string;
  readonly sourceInstance: string;
  /** One at a time or in batches (arrays), as the reader finds cheapest. */
  readonly events: AsyncIterable<UsageEvent | readonly UsageEvent[]>;
  /**
   * Called inside the transaction after the roll-up and before the upsert;
   * throwing rolls everything back. Without it, a refused cell refuses the
   * whole import (InvalidRecordError).
   */
  readonly review?: (rollup: UsageEventRollup) => void | Promise<void>;
  /**
   * Cells summed in memory before their partial sums are written to the
   * database and the memory freed (default DEFAULT_PARTIAL_CELL_LIMIT). Lower
   * keeps less in memory; the result is the same.
   */
  readonly partialCellLimit?: number;
  /**
   * Replace the stored cost of every cell written, even one whose tokens did
   * not change. By default a re-import is a replay: a stored computed cost is
   * kept when the cell's tokens are the same (replacementAssignments), so a
   * newer price registry never silently re-prices history. A cell priced per
   * request cannot be re-priced from its sum (`utt reprice` leaves it alone),
   * so re-importing its file with `reprice` (`utt import --reprice`) is the
   * way to apply a changed price to it.
   */
  readonly reprice?: boolean;
  /**
   * The file replaces everything the instance held: after the write, the
   * instance's cells that this import did not write (an earlier import's
   * cells the file no longer has, such as a corrected model name or bucket)
   * are deleted, in the same transaction. Without it they are kept and
   * counted in `storedCellsNotWritten`.
   */
  readonly replace?: boolean;
};

export type UsageEventImportResult = UsageEventRollup & {
  /** Cells written (inserted or replaced). */
  readonly rowsWritten: number;
  /**
   * Cells of the instance that this import did not write and that are still
   * stored: an earlier import's cells the file no longer has, which still
   * count in every total (0 with `replace`, which deletes them).
   */
  readonly storedCellsNotWritten: number;
  /** Cells deleted by `replace`. */
  readonly storedCellsDeleted: number;
};

/** Issues listed in full; the counts cover the rest. */
export const ISSUE_LIMIT = 1000;

const DIMENSIONS = ['granularity', 'bucket_start', 'provider', 'model', 'account', 'api_key', 'user_id', 'labels'] as const;

const SAFE_INTEGER = '9007199254740991';

/** Memory for the hashed roll-up, for this transaction only; beyond it PostgreSQL spills to disk. */
const ROLLUP_WORK_MEM = '64MB';

/**
 * Writes per-event usage as token_usage cells at database speed, in one
 * transaction: the events of a cell are summed in memory as they stream (up to
 * `partialCellLimit` cells at a time, then the partial sums are spilled), the
 * partial sums are streamed with COPY into a temporary table, summed per cell
 * with one GROUP BY, and written with one UPDATE of the cells that exist and
 * one INSERT of the others (the same replacement as every other write's ON
 * CONFLICT, invariant 1). Memory stays flat whatever the number of events or
 * cells; a file of a million requests in a few thousand cells sends a few
 * thousand rows to the database.
 *
 * Sum rules, per cell: a counter is NULL only when every event leaves it NULL
 * (invariant 2); cost_usd is the exact sum when every event has a cost (given
 * or computed), else NULL; cost_source is 'computed' when utt priced any of
 * them, with price_ref `per-request:` and the distinct prices used; a cell
 * left unpriced keeps the first reason; measurement_basis is the weakest.
 * A cell whose sum breaks a record rule (a counter beyond 2^53 − 1, reasoning
 * above output) is refused; `review` decides whether that refuses the import.
 */
export async function importUsageEvents(
  client: SqlClient,
  tables: StoreTables,
  write: UsageEventImport,
): Promise<UsageEventImportResult> {
  if (write.sourceSystem === '') throw new StoreArgumentError({ argument: 'sourceSystem', message: 'required' });
  return client.transaction(async (tx) => {
    // Two imports into one instance take turns: their UPDATE-then-INSERT of the same cells would otherwise collide.
    await lockInstanceWrite(tx, tables, write.sourceSystem, write.sourceInstance);
    await tx.exec(`CREATE TEMPORARY TABLE utt_import_partial (${PARTIAL_COLUMNS}) ON COMMIT DROP`);
    let events = 0;
    let cellsMayRepeat = false;
    await tx.copyFrom(
      'COPY utt_import_partial FROM STDIN',
      partialCellChunks(
        write.events,
        write.partialCellLimit ?? DEFAULT_PARTIAL_CELL_LIMIT,
        (count) => {
          events += count;
        },
        () => {
          cellsMayRepeat = true;
        },
      ),
    );

    if (cellsMayRepeat) {
      await groupPartialCells(tx);
    } else {
      // No cell met again after a spill (a file of fewer than partialCellLimit cells, or whose cells each sit in one
      // stretch of it): each cell has exactly one partial sum, with its sorted prices and its first unpriced reason,
      // so the partial sums are the cells and the GROUP BY is skipped.
      await tx.exec(`ALTER TABLE utt_import_partial RENAME TO utt_import_cell;
        ALTER TABLE utt_import_cell ADD COLUMN refused_field text, ADD COLUMN problem text`);
    }
    await tx.exec(`UPDATE utt_import_cell SET (refused_field, problem) = (SELECT field, problem FROM (VALUES ${refusalRules()}) AS rule(rank, field, problem, broken) WHERE broken ORDER BY rank LIMIT 1)
      WHERE ${TOKEN_COLUMNS.map((column) => `${column} > ${SAFE_INTEGER}`).join(' OR ')}
         OR cached_write_1h_tokens > cached_write_tokens
         OR reasoning_tokens > output_tokens`);

    const rollup = await summarise(tx);
    if (write.review) {
      await write.review({ ...rollup, events });
    } else if (rollup.refusedCellCount > 0) {
      const first = rollup.refusedCells[0];
      throw new InvalidRecordError({
        issues: [`${first?.field}: ${first?.problem} in the sum of the ${first?.events} events of the cell at line ${first?.line}`],
        where: `import into source_system "${write.sourceSystem}"`,
      });
    }

    const costKnown = 'events_with_given_cost + events_computed = events';
    const columns = ['source_system', 'source_instance', ...DIMENSIONS, ...TOKEN_COLUMNS, 'cost_usd', 'cost_source', 'price_ref', 'unpriced_reason', 'measurement_basis'];
    const incoming = `SELECT $1::text AS source_system, $2::text AS source_instance,
             ${DIMENSIONS.map((column) => (column === 'labels' ? 'labels::jsonb AS labels' : column)).join(', ')},
             ${TOKEN_COLUMNS.map((column) => `${column}::bigint AS ${column}`).join(', ')},
             CASE WHEN ${costKnown} THEN trim_scale(COALESCE(given_cost, 0) + COALESCE(computed_cost, 0)) END AS cost_usd,
             CASE WHEN ${costKnown} THEN CASE WHEN events_computed > 0 THEN 'computed' ELSE 'provider' END END AS cost_source,
             CASE WHEN ${costKnown} AND events_computed > 0 THEN left('per-request:' || price_refs, 500) END AS price_ref,
             CASE WHEN NOT (${costKnown}) AND first_unpriced_reason IS NOT NULL THEN left('per-request:' || first_unpriced_reason, 500) END AS unpriced_reason,
             (ARRAY['derived_estimate', 'provider_aggregate', 'exact'])[trust + 1] AS measurement_basis
      FROM utt_import_cell
      WHERE refused_field IS NULL`;
    const sameKey = KEY_COLUMNS.map((column) => `existing.${column} = excluded.${column}`).join(' AND ');
    // The same replacement as INSERT … ON CONFLICT (invariant 1), in two
    // statements: ON CONFLICT's speculative insertion costs about twice a plain
    // insert per row. A writer that inserts one of these cells between the two
    // makes the second fail on the unique key, and the whole import rolls back.
    const [stored] = await tx.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${tables.tokenUsage} WHERE source_system = $1 AND source_instance = $2) AS found`,
      [write.sourceSystem, write.sourceInstance],
    );
    let replaced: { count: number }[] = [];
    if (stored?.found) {
      // Statistics for the planner: without them it may guess one cell and
      // loop over the instance's stored rows once per cell.
      await tx.exec('ANALYZE utt_import_cell');
      // A join on the ten-column key is a hash join; token_usage's statistics
      // may predate the instance's last import, so a nested loop is ruled out.
      await tx.exec('SET LOCAL enable_nestloop = off');
      replaced = await tx.query<{ count: number }>(
        `WITH replaced AS (
           UPDATE ${tables.tokenUsage} AS existing SET ${replacementAssignments({ reprice: write.reprice })}
           FROM (${incoming}) AS excluded
           WHERE ${sameKey}
           RETURNING 1
         )
         SELECT count(*) AS count FROM replaced`,
        [write.sourceSystem, write.sourceInstance],
      );
      await tx.exec('SET LOCAL enable_nestloop = on');
    }
    // A first import into the instance needs no look for existing cells: none
    // exist, and every writer of the instance's rows takes the lock held here.
    const inserted = await tx.query<{ count: number }>(
      `WITH inserted AS (
         INSERT INTO ${tables.tokenUsage} (${columns.join(', ')})
         SELECT ${columns.join(', ')} FROM (${incoming}) AS excluded
         ${stored?.found ? `WHERE NOT EXISTS (SELECT 1 FROM ${tables.tokenUsage} AS existing WHERE ${sameKey})` : ''}
         RETURNING 1
       )
       SELECT count(*) AS count FROM inserted`,
      [write.sourceSystem, write.sourceInstance],
    );
    const rowsWritten = Number(replaced[0]?.count ?? 0) + Number(inserted[0]?.count ?? 0);
    // A re-import of a changed file (a model name corrected, timestamps moved to another bucket) writes new cells
    // and leaves the old ones, which would count twice: say how many, or delete them when the file replaces the instance.
    let storedCellsNotWritten = 0;
    let storedCellsDeleted = 0;
    if (stored?.found) {
      if (write.replace) {
        await tx.exec('SET LOCAL enable_nestloop = off');
        const [deleted] = await tx.query<{ count: number }>(
          `WITH deleted AS (
             DELETE FROM ${tables.tokenUsage} AS existing
             WHERE existing.source_system = $1 AND existing.source_instance = $2
               AND NOT EXISTS (SELECT 1 FROM (${incoming}) AS excluded WHERE ${sameKey})
             RETURNING 1
           )
           SELECT count(*) AS count FROM deleted`,
          [write.sourceSystem, write.sourceInstance],
        );
        await tx.exec('SET LOCAL enable_nestloop = on');
        storedCellsDeleted = Number(deleted?.count ?? 0);
      } else {
        // Every cell written is one of the instance's rows: the rest were not written.
        const [held] = await tx.query<{ count: number }>(
          `SELECT count(*) AS count FROM ${tables.tokenUsage} WHERE source_system = $1 AND source_instance = $2`,
          [write.sourceSystem, write.sourceInstance],
        );
        storedCellsNotWritten = Number(held?.count ?? 0) - rowsWritten;
      }
    }
    return { ...rollup, events, rowsWritten, storedCellsNotWritten, storedCellsDeleted };
  });
}

/** Sums the partial sums of each cell (one per spill) into utt_import_cell. */
async function groupPartialCells(tx: SqlClient): Promise<void> {
  // Plain aggregates only, so PostgreSQL can hash the groups: a DISTINCT or
  // ORDER BY inside an aggregate would sort the partial cells. A cell may
  // have one partial sum per spill; the rare cell priced at several prices,
  // or unpriced for several reasons, is completed below. Labels are grouped
  // as canonical JSON text (keys sorted), cheaper than jsonb. Sums are
  // NUMERIC here so that a cell beyond BIGINT is reported, not an overflow.
  await tx.exec(`SET LOCAL work_mem = '${ROLLUP_WORK_MEM}'`);
  await tx.exec(`CREATE TEMPORARY TABLE utt_import_cell ON COMMIT DROP AS
    SELECT ${DIMENSIONS.join(', ')},
           min(first_line) AS first_line,
           sum(events) AS events,
           ${TOKEN_COLUMNS.map((column) => `sum(${column}) AS ${column}`).join(', ')},
           sum(events_with_given_cost) AS events_with_given_cost,
           sum(given_cost) AS given_cost,
           sum(events_computed) AS events_computed,
           sum(computed_cost) AS computed_cost,
           min(price_refs) AS price_refs,
           max(price_refs) AS last_price_ref,
           min(first_unpriced_line) AS first_unpriced_line,
           min(first_unpriced_reason) AS first_unpriced_reason,
           max(first_unpriced_reason) AS last_unpriced_reason,
           min(trust) AS trust,
           NULL::text AS refused_field,
           NULL::text AS problem
    FROM utt_import_partial
    GROUP BY ${DIMENSIONS.join(', ')}`);
  await completeMixedCells(tx);
}

/**
 * A cell priced at several prices lists them all (sorted, `|`-separated); a
 * cell unpriced for several reasons keeps the reason of its first event. Both
 * are rare, so they are found after the hashed GROUP BY, not paid for in it.
 */
async function completeMixedCells(tx: SqlClient): Promise<void> {
  const [mixed] = await tx.query<{ prices: boolean; reasons: boolean }>(
    `SELECT bool_or(price_refs <> last_price_ref) AS prices, bool_or(first_unpriced_reason <> last_unpriced_reason) AS reasons FROM utt_import_cell`,
  );
  const sameCell = DIMENSIONS.map((column) => `cell.${column} = partial.${column}`).join(' AND ');
  if (mixed?.prices) {
    // A partial cell lists its own prices sorted and `|`-separated; the cell's list is their sorted union.
    await tx.exec(`UPDATE utt_import_cell AS cell SET price_refs = mixed.price_refs
      FROM (SELECT ${DIMENSIONS.join(', ')}, string_agg(price_ref, '|' ORDER BY price_ref) AS price_refs
            FROM (SELECT DISTINCT ${DIMENSIONS.join(', ')}, unnest(string_to_array(price_refs, '|')) COLLATE "C" AS price_ref
                  FROM utt_import_partial WHERE price_refs IS NOT NULL) AS distinct_prices
            GROUP BY ${DIMENSIONS.join(', ')}) AS mixed
      WHERE cell.price_refs <> cell.last_price_ref AND ${DIMENSIONS.map((column) => `cell.${column} = mixed.${column}`).join(' AND ')}`);
  }
  if (mixed?.reasons) {
    await tx.exec(`UPDATE utt_import_cell AS cell SET first_unpriced_reason = partial.first_unpriced_reason
      FROM utt_import_partial AS partial
      WHERE cell.first_unpriced_reason <> cell.last_unpriced_reason AND partial.first_unpriced_line = cell.first_unpriced_line AND ${sameCell}`);
  }
}

/** The record rules a sum can break, in the order core's schema reports them. */
function refusalRules(): string {
  const rules = TOKEN_COLUMNS.map((column, rank) => `(${rank}, '${column}', 'too large', ${column} > ${SAFE_INTEGER})`);
  rules.push(
    `(${rules.length}, 'cached_write_1h_tokens', 'is part of cached_write_tokens and cannot exceed it', COALESCE(cached_write_1h_tokens > cached_write_tokens, false))`,
    `(${rules.length + 1}, 'reasoning_tokens', 'is part of output_tokens and cannot exceed it', COALESCE(reasoning_tokens > output_tokens, false))`,
  );
  return rules.join(', ');
}

type CellIssueSqlRow = {
  first_line: number;
  field: string;
  granularity: Granularity;
  bucket_start: Date;
  provider: string;
  model: string;
  events: number;
  events_with_cost: number;
  first_unpriced_reason: string | null;
  problem: string | null;
};

async function summarise(tx: SqlClient): Promise<Omit<UsageEventRollup, 'events'>> {
  const withCost = 'events_with_given_cost + events_computed';
  const [counts] = await tx.query<{
    cells: number;
    partial: number;
    refused: number;
    refused_events: number | null;
    unpriced: number;
  }>(
    `SELECT count(*) AS cells,
            count(*) FILTER (WHERE refused_field IS NULL AND ${withCost} > 0 AND ${withCost} < events) AS partial,
            count(*) FILTER (WHERE refused_field IS NOT NULL) AS refused,
            sum(events) FILTER (WHERE refused_field IS NOT NULL) AS refused_events,
            count(*) FILTER (WHERE refused_field IS NULL AND ${withCost} < events AND first_unpriced_reason IS NOT NULL) AS unpriced
     FROM utt_import_cell`,
  );
  const issues = (condition: string, field: string) =>
    tx.query<CellIssueSqlRow>(
      `SELECT first_line, ${field} AS field, granularity, bucket_start, provider, model, events,
              ${withCost} AS events_with_cost, first_unpriced_reason, problem
       FROM utt_import_cell WHERE ${condition} ORDER BY first_line LIMIT ${ISSUE_LIMIT}`,
    );
  const refused = Number(counts?.refused ?? 0) > 0 ? await issues('refused_field IS NOT NULL', 'refused_field') : [];
  const partial =
    Number(counts?.partial ?? 0) > 0
      ? await issues(`refused_field IS NULL AND ${withCost} > 0 AND ${withCost} < events`, `'cost_usd'`)
      : [];
  return {
    cells: Number(counts?.cells ?? 0),
    partialCostCells: partial.map(toIssue),
    partialCostCellCount: Number(counts?.partial ?? 0),
    refusedCells: refused.map(toIssue),
    refusedCellCount: Number(counts?.refused ?? 0),
    refusedEvents: Number(counts?.refused_events ?? 0),
    unpricedCells: Number(counts?.unpriced ?? 0),
  };
}

function toIssue(row: CellIssueSqlRow): UsageCellIssue {
  return {
    line: Number(row.first_line),
    field: row.field,
    granularity: row.granularity,
    bucketStart: row.bucket_start,
    provider: row.provider,
    model: row.model,
    events: Number(row.events),
    eventsWithCost: Number(row.events_with_cost),
    unpricedReason: row.first_unpriced_reason,
    problem: row.problem,
  };
}
