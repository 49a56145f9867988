import { basename, extname } from 'node:path';
import { type UsageAdapterV1Pricer, type UsageAdapterV1PricePlan, UttError, type UsageRecord } from '@utt/core';
import { checkImportHeader, findUnknownColumn } from './import-columns';
import { ImportFileError } from './import-file-error';
import type { ImportIssue } from './import-issue';
import { csvLineParser } from './parse-csv-line';
import { type ImportRow, parseImportRow } from './parse-import-row';
import type { RawImportRow } from './raw-import-row';
import { readCsvRowBatches } from './read-csv-rows';
import { readJsonRows } from './read-json-rows';
import { readNdjsonRows } from './read-ndjson-rows';
import { UsageRollup } from './usage-rollup';

export type ImportFormat = 'csv' | 'json' | 'ndjson';

export type ImportUsageFileOptions = {
  /** List bad rows in `invalidRows` and import the others, instead of refusing the file at the first one. */
  readonly skipInvalid?: boolean;
  /**
   * With skipInvalid: how many bad rows `invalidRows` keeps, the first ones in
   * line order (default INVALID_ROW_LIMIT); `invalidRowCount` counts them all.
   * Memory stays bounded however many lines of a file are bad.
   */
  readonly invalidRowLimit?: number;
  /**
   * The records' source_instance. Default: the file's base name, so two files
   * never overwrite each other's cells while re-importing one file replaces
   * its own. Give the same name to a corrected export to make it replace an
   * earlier one saved under another file name.
   */
  readonly sourceInstance?: string;
  /** Default: from the extension (.csv, .json, .ndjson or .jsonl). */
  readonly format?: ImportFormat;
  readonly signal?: AbortSignal;
  /** Prices each row that has no cost before it is summed (the worker's registry); without one, cells without a cost stay NULL. */
  readonly pricer?: UsageAdapterV1Pricer;
  /**
   * readImportEvents only: hand each row without a cost its price plan
   * (`price_plan`, from `pricer.quote`) instead of its computed cost, for a
   * writer that sums the tokens of a cell per plan and prices each sum once
   * (the store's importUsageEvents), which gives the same cost as pricing each
   * row and summing, without the arithmetic per row. Ignored when the pricer
   * has no `quote`.
   */
  readonly pricePlans?: boolean;
};

export type ImportResult = {
  /** The path as it was given. */
  readonly file: string;
  readonly format: ImportFormat;
  /** One validated record per cell, rows of the same cell summed; in the order cells first appear. */
  readonly records: UsageRecord[];
  /** Data rows read (blank lines and the header not counted). */
  readonly rowsRead: number;
  /** Rows that went into `records`. */
  readonly rowsImported: number;
  /** With skipInvalid: the rows left out, with the first problem found in each; the first `invalidRowLimit` of them. */
  readonly invalidRows: ImportIssue[];
  /** With skipInvalid: every row left out, listed in `invalidRows` or not. */
  readonly invalidRowCount: number;
  /** Imported, but worth a look: cells whose cost is left NULL because only some rows had one. */
  readonly warnings: ImportIssue[];
};

const FORMAT_BY_EXTENSION: Readonly<Record<string, ImportFormat>> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/**
 * How many bad rows an import keeps to name (the rest are only counted): as
 * many as the store keeps refused cells (ISSUE_LIMIT), far more than the CLI
 * prints, and a few hundred kilobytes at most.
 */
export const INVALID_ROW_LIMIT = 1000;

/** How many rows between two checks of the abort signal. */
const ABORT_CHECK_INTERVAL = 1024;

/**
 * Imports a CSV, JSON-array or NDJSON file of usage rows (token_usage column
 * names), streamed: memory grows with the number of distinct output cells, not
 * with the number of rows, so a multi-gigabyte per-request export runs.
 *
 * Each row's timestamp is floored to its UTC bucket and the rows of one cell
 * (granularity, bucket, provider, model, account, api_key, user_id, labels)
 * are summed: a counter is NULL only if every row leaves it empty; cost_usd is
 * the exact sum when every row has one, else NULL with a warning; the
 * measurement_basis is the weakest of the rows. By default the first bad row refuses the whole file
 * with an ImportFileError (`<file>:<line>: <field>: <reason>`) and nothing is
 * returned; with `skipInvalid` bad rows are counted, the first
 * `invalidRowLimit` listed, and the good ones returned.
 * Unknown columns, a missing required column and unreadable files always
 * refuse the file.
 */
export async function importUsageFile(path: string, options: ImportUsageFileOptions = {}): Promise<ImportResult> {
  const sourceInstance = options.sourceInstance || basename(path);
  // The in-memory roll-up sums per-row costs: no price plans here.
  const stream = readImportEvents(path, { ...options, pricePlans: false });
  const rollup = new UsageRollup();
  for await (const event of stream.events) rollup.add(event);

  const { records, warnings, rejected } = rollup.finish(sourceInstance);
  const { invalidRows } = stream.progress;
  let { rowsImported, invalidRowCount } = stream.progress;
  const limit = options.invalidRowLimit ?? INVALID_ROW_LIMIT;
  for (const cell of rejected) {
    const issue = { line: cell.line, field: cell.field, message: cell.message };
    if (!options.skipInvalid) throw new ImportFileError({ file: path, line: issue.line, field: issue.field, reason: issue.message });
    // After the bad rows, as before the list was bounded: the kept list is the first `limit` of the whole one.
    if (invalidRows.length < limit) invalidRows.push(issue);
    invalidRowCount++;
    rowsImported -= cell.rows;
  }
  return {
    file: path,
    format: stream.format,
    records,
    rowsRead: stream.progress.rowsRead,
    rowsImported,
    invalidRows,
    invalidRowCount,
    warnings,
  };
}

/** One valid row of an import file, with its line and, without a cost of its own, the pricer's answer for it alone. */
export type ImportEvent = ImportRow & {
  readonly line: number;
  /** The pricer's cost for this row (it had no cost_usd); null when unpriced, without a pricer, or given a price_plan instead. */
  readonly computed_cost_usd: string | null;
  readonly price_ref: string | null;
  /** With `pricePlans`: the plan this row is priced with (its cost is the plan's price of its tokens); else null. */
  readonly price_plan: UsageAdapterV1PricePlan | null;
  /** Why the pricer could not price the row. */
  readonly unpriced_reason: string | null;
};

/** Counts kept while the events are read; final once the iteration ends. */
export type ImportProgress = {
  rowsRead: number;
  /** Valid rows yielded as events. */
  rowsImported: number;
  /** With skipInvalid: the first rows left out (at most `invalidRowLimit`, in line order), with the first problem found in each. */
  readonly invalidRows: ImportIssue[];
  /** With skipInvalid: every row left out so far, listed in `invalidRows` or not. */
  invalidRowCount: number;
};

export type ImportEventStream = {
  readonly format: ImportFormat;
  /** Iterate once. Throws ImportFileError at the first bad row unless skipInvalid, and always on a bad header or an unreadable file. */
  readonly events: AsyncIterable<ImportEvent>;
  /**
   * The same events a piece of the file at a time (iterate either this or
   * `events`, once): one await per batch rather than per row. The store's
   * importUsageEvents takes either.
   */
  readonly batches: AsyncIterable<readonly ImportEvent[]>;
  readonly progress: ImportProgress;
};

/**
 * The valid rows of an import file, one at a time and priced one request at a
 * time, not summed: for a writer that rolls up elsewhere, such as the store's
 * COPY-based import. Memory stays flat whatever the size of the file and
 * however many of its rows are bad (only the first `invalidRowLimit` are kept).
 */
export function readImportEvents(path: string, options: Omit<ImportUsageFileOptions, 'sourceInstance'> = {}): ImportEventStream {
  const format = options.format ?? formatOf(path);
  const progress: ImportProgress = { rowsRead: 0, rowsImported: 0, invalidRows: [], invalidRowCount: 0 };
  const batches = importEventBatches(path, format, options, progress);
  return { format, progress, batches, events: flatten(batches) };
}

async function* flatten<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

async function* importEventBatches(
  path: string,
  format: ImportFormat,
  options: Omit<ImportUsageFileOptions, 'sourceInstance'>,
  progress: ImportProgress,
): AsyncGenerator<ImportEvent[]> {
  const { signal, pricer } = options;
  const pricePlans = options.pricePlans ?? false;
  const skipInvalid = options.skipInvalid ?? false;
  const invalidRowLimit = options.invalidRowLimit ?? INVALID_ROW_LIMIT;
  signal?.throwIfAborted();
  const refuseOrSkip = (issue: ImportIssue): void => {
    if (!skipInvalid) throw new ImportFileError({ file: path, line: issue.line, field: issue.field, reason: issue.message });
    progress.invalidRowCount++;
    // A file of a million bad lines must not hold a million issues (and the lines their messages may slice).
    if (progress.invalidRows.length < invalidRowLimit) progress.invalidRows.push(issue);
  };
  try {
    for await (const rows of readRows(path, format, signal)) {
      const events: ImportEvent[] = [];
      for (const raw of rows) {
        progress.rowsRead++;
        if (progress.rowsRead % ABORT_CHECK_INTERVAL === 0) signal?.throwIfAborted();
        if ('row' in raw) {
          progress.rowsImported++;
          events.push(priceEvent(raw.row, raw.line, pricer, pricePlans));
          continue;
        }
        if ('problem' in raw) {
          refuseOrSkip({ line: raw.line, field: 'row', message: raw.problem });
          continue;
        }
        if (format !== 'csv' && typeof raw.values === 'object' && raw.values !== null) {
          // A CSV header is checked once; a JSON object brings its own keys.
          const unknown = findUnknownColumn(Object.keys(raw.values));
          if (unknown) throw new ImportFileError({ file: path, line: raw.line, field: unknown.field, reason: unknown.message });
        }
        const parsed = parseImportRow(raw.values);
        if (!parsed.ok) {
          refuseOrSkip({ line: raw.line, field: parsed.field, message: parsed.message });
          continue;
        }
        progress.rowsImported++;
        events.push(priceEvent(parsed.row, raw.line, pricer, pricePlans));
      }
      if (events.length > 0) yield events;
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (UttError.isInstance(error)) throw error;
    throw new ImportFileError({ file: path, reason: describeReadError(error), cause: error });
  }
}

/** Per request, before any sum, so a long-context tier applies to the request and not to the bucket's total. */
function priceEvent(row: ImportRow, line: number, pricer: UsageAdapterV1Pricer | undefined, pricePlans: boolean): ImportEvent {
  // The row is fresh from parseImportRow and ours alone: extended in place, as a copy per row of a million-row file costs seconds.
  const event = row as Mutable<ImportEvent>;
  event.line = line;
  event.computed_cost_usd = null;
  event.price_ref = null;
  event.price_plan = null;
  event.unpriced_reason = null;
  if (pricer === undefined || row.cost_usd !== null) return event;
  if (pricePlans && pricer.quote !== undefined) {
    const quote = pricer.quote(row);
    if (quote.status === 'priced') {
      event.price_plan = quote.plan;
      event.price_ref = quote.plan.priceRef;
    } else {
      event.unpriced_reason = quote.unpricedReason;
    }
    return event;
  }
  const result = pricer.price(row);
  if (result.status === 'priced') {
    event.computed_cost_usd = result.costUsd;
    event.price_ref = result.priceRef;
  } else {
    event.unpriced_reason = result.unpricedReason;
  }
  return event;
}

type Mutable<T> = { -readonly [key in keyof T]: T[key] };

function formatOf(path: string): ImportFormat {
  const extension = extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION[extension];
  if (format === undefined) {
    throw new ImportFileError({
      file: path,
      reason: `cannot tell the format from the extension ${extension === '' ? '(none)' : extension}; use .csv, .json, .ndjson or .jsonl, or pass the format (csv, json or ndjson; "utt import --format csv")`,
    });
  }
  return format;
}

function readRows(path: string, format: ImportFormat, signal: AbortSignal | undefined): AsyncIterable<readonly RawImportRow[]> {
  switch (format) {
    case 'csv':
      return readCsvRowBatches(path, {
        signal,
        lineParser: csvLineParser,
        onHeader: (names, line) => {
          const problem = checkImportHeader(names);
          if (problem) throw new ImportFileError({ file: path, line, field: problem.field, reason: problem.message });
        },
      });
    case 'json':
      return singletons(readJsonRows(path, { signal }));
    case 'ndjson':
      return singletons(readNdjsonRows(path, { signal }));
  }
}

async function* singletons<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
};

function describeReadError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && READ_ERRORS[code]) return READ_ERRORS[code];
  return `cannot read the file: ${error instanceof Error ? error.message : String(error)}`;
}
