import { basename, extname } from 'node:path';
import { type ProviderCostRecord, providerCostRecordSchema, UttError } from '@utt/core';
import { ImportFileError } from './import-file-error';
import type { ImportIssue } from './import-issue';
import type { RawImportRow } from './raw-import-row';
import { readCsvRowBatches } from './read-csv-rows';
import { readJsonRows } from './read-json-rows';
import { readNdjsonRows } from './read-ndjson-rows';

/** The columns of a billed-amount file: provider_cost's own names. */
export const COST_COLUMNS = ['bucket_start', 'provider', 'account', 'model', 'line_item', 'amount_usd', 'currency'] as const;

/** Columns every cost file must have (and every row must fill). */
export const REQUIRED_COST_COLUMNS = ['bucket_start', 'provider', 'line_item', 'amount_usd'] as const;

export type ImportCostFileOptions = {
  /** List bad rows in `invalidRows` and import the others, instead of refusing the file at the first one. */
  readonly skipInvalid?: boolean;
  /** The rows' source_instance. Default: the file's base name, as for usage files. */
  readonly sourceInstance?: string;
  readonly signal?: AbortSignal;
};

export type ImportCostResult = {
  /** One record per row: the store keeps one amount per day, provider, account, model and line item, so a repeated key is an error. */
  readonly records: ProviderCostRecord[];
  readonly rowsRead: number;
  /** With skipInvalid: each row left out, with the first problem found in it. */
  readonly invalidRows: ImportIssue[];
};

const KNOWN: ReadonlySet<string> = new Set(COST_COLUMNS);

/**
 * What a provider billed, from a file: CSV with a header, a JSON array or
 * NDJSON, one amount a row — a day (`2026-10-01`, a UTC day as providers bill),
 * the provider, the line item, the amount in USD (negative for credits), and
 * optionally the account, the model and the currency. This is how a team
 * without an admin key brings an invoice or a console's cost export along, so
 * `utt report --reconcile` and the dashboard can set billed against computed.
 *
 * A bad row refuses the file with `<file>:<line>: <field>: <reason>` (or is
 * listed with `skipInvalid`); an unknown or missing column always refuses it.
 */
export async function importCostFile(path: string, options: ImportCostFileOptions = {}): Promise<ImportCostResult> {
  const sourceInstance = options.sourceInstance || basename(path);
  const format = formatOf(path);
  const records: ProviderCostRecord[] = [];
  const invalidRows: ImportIssue[] = [];
  const lineOfKey = new Map<string, number>();
  let rowsRead = 0;
  const refuseOrSkip = (issue: ImportIssue): void => {
    if (!options.skipInvalid) throw new ImportFileError({ file: path, line: issue.line, field: issue.field, reason: issue.message });
    invalidRows.push(issue);
  };
  try {
    for await (const rows of readRows(path, format, options.signal)) {
      for (const raw of rows) {
        rowsRead++;
        if ('problem' in raw) {
          refuseOrSkip({ line: raw.line, field: 'row', message: raw.problem });
          continue;
        }
        // No fast path is asked of the CSV reader here, so every row comes as values.
        if (!('values' in raw) || typeof raw.values !== 'object' || raw.values === null || Array.isArray(raw.values)) {
          refuseOrSkip({ line: raw.line, field: 'row', message: 'expected an object with the columns as keys' });
          continue;
        }
        const values = raw.values as Record<string, unknown>;
        if (format !== 'csv') {
          const problem = checkCostColumns(Object.keys(values), false);
          if (problem) throw new ImportFileError({ file: path, line: raw.line, field: problem.field, reason: problem.message });
        }
        const parsed = parseCostRow(values, sourceInstance);
        if (!parsed.ok) {
          refuseOrSkip({ line: raw.line, field: parsed.field, message: parsed.message });
          continue;
        }
        const record = parsed.record;
        const key = JSON.stringify([record.bucket_start.getTime(), record.provider, record.account, record.model, record.line_item]);
        const earlier = lineOfKey.get(key);
        if (earlier !== undefined) {
          refuseOrSkip({
            line: raw.line,
            field: 'line_item',
            message: `the same day, provider, account, model and line item as line ${earlier}; sum them into one row (each is stored once)`,
          });
          continue;
        }
        lineOfKey.set(key, raw.line);
        records.push(record);
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (UttError.isInstance(error)) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    throw new ImportFileError({ file: path, reason: code === 'ENOENT' ? 'file not found' : `cannot read the file: ${(error as Error).message}`, cause: error });
  }
  return { records, rowsRead, invalidRows };
}

type ParsedCostRow = { ok: true; record: ProviderCostRecord } | { ok: false; field: string; message: string };

function parseCostRow(values: Record<string, unknown>, sourceInstance: string): ParsedCostRow {
  for (const column of REQUIRED_COST_COLUMNS) {
    const value = values[column];
    if (value === undefined || value === null || value === '') return { ok: false, field: column, message: 'required' };
  }
  const input: Record<string, unknown> = { source_instance: sourceInstance };
  for (const column of COST_COLUMNS) {
    const value = values[column];
    // CSV has no missing value but the empty cell: it means the column's default.
    if (value === undefined || value === null || value === '') continue;
    input[column] = typeof value === 'string' ? value.trim() : value;
  }
  if (typeof input.bucket_start === 'string') {
    const day = /^\d{4}-\d{2}-\d{2}$/.test(input.bucket_start) ? `${input.bucket_start}T00:00:00Z` : input.bucket_start;
    const date = new Date(day);
    if (Number.isNaN(date.getTime())) return { ok: false, field: 'bucket_start', message: `"${input.bucket_start.slice(0, 40)}" is not a date (YYYY-MM-DD, a UTC day)` };
    input.bucket_start = date;
  }
  const result = providerCostRecordSchema.safeParse(input);
  if (result.success) return { ok: true, record: result.data };
  const issue = result.error.issues[0];
  const field = typeof issue?.path[0] === 'string' ? issue.path[0] : 'row';
  return { ok: false, field, message: issue?.message ?? 'invalid' };
}

/** Every column known and none twice; for a header, the required ones present too. */
function checkCostColumns(names: readonly string[], header: boolean): ImportIssueLike | undefined {
  const seen = new Set<string>();
  for (const name of names) {
    if (!KNOWN.has(name)) {
      return { field: name === '' ? '(empty)' : name, message: `unknown column; a cost file's columns are ${COST_COLUMNS.join(', ')}` };
    }
    if (seen.has(name)) return { field: name, message: 'column appears twice in the header' };
    seen.add(name);
  }
  if (header) {
    for (const required of REQUIRED_COST_COLUMNS) {
      if (!seen.has(required)) return { field: required, message: 'required column is missing from the header' };
    }
  }
  return undefined;
}

type ImportIssueLike = { readonly field: string; readonly message: string };

function formatOf(path: string): 'csv' | 'json' | 'ndjson' {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.json') return 'json';
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson';
  throw new ImportFileError({ file: path, reason: `cannot tell the format from the extension ${extension === '' ? '(none)' : extension}; use .csv, .json, .ndjson or .jsonl` });
}

function readRows(path: string, format: 'csv' | 'json' | 'ndjson', signal: AbortSignal | undefined): AsyncIterable<readonly RawImportRow[]> {
  if (format === 'csv') {
    return readCsvRowBatches(path, {
      signal,
      onHeader: (names, line) => {
        const problem = checkCostColumns(names, true);
        if (problem) throw new ImportFileError({ file: path, line, field: problem.field, reason: problem.message });
      },
    });
  }
  return singletons(format === 'json' ? readJsonRows(path, { signal }) : readNdjsonRows(path, { signal }));
}

async function* singletons<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}
