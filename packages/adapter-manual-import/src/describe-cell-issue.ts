import type { Granularity } from '@utt/core';
import type { ImportIssue } from './import-issue';

/** What is known about a summed cell with a problem, wherever it was summed (in memory or in the store). */
export type CellIssueFacts = {
  /** The line of the cell's first row. */
  readonly line: number;
  readonly field: string;
  readonly granularity: Granularity;
  readonly bucketStart: Date;
  readonly provider: string;
  readonly model: string;
  /** Rows summed into the cell. */
  readonly events: number;
  /** Rows with a cost, given or computed. */
  readonly eventsWithCost: number;
  readonly unpricedReason: string | null;
  /** For a refused cell, the rule its sum breaks; null for a partial cost. */
  readonly problem: string | null;
};

/**
 * The import's wording for a cell: a refused sum ("is part of output_tokens
 * and cannot exceed it in the sum of the 2 rows of the hour cell …") or a cost
 * left NULL because only some rows had one. Named by the cell's first line.
 */
export function describeCellIssue(cell: CellIssueFacts): ImportIssue {
  const where = `${cell.granularity} cell ${cell.provider}/${cell.model} at ${cell.bucketStart.toISOString()}`;
  if (cell.problem !== null) {
    return { line: cell.line, field: cell.field, message: `${cell.problem} in the sum of the ${cell.events} rows of the ${where}` };
  }
  const others = cell.unpricedReason ? ` (the others: ${cell.unpricedReason})` : '';
  return {
    line: cell.line,
    field: cell.field,
    message: `only ${cell.eventsWithCost} of the ${cell.events} rows of the ${where} have a cost${others}; its cost_usd is left NULL rather than a partial sum`,
  };
}
