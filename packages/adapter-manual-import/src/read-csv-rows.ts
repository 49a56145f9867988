import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { ImportFileError } from './import-file-error';
import type { RawImportRow } from './raw-import-row';

export type ReadCsvRowsOptions = {
  readonly signal?: AbortSignal;
  /** Called with the trimmed header names and their line before any row; throw to refuse the file. */
  readonly onHeader?: (names: readonly string[], line: number) => void;
};

type CsvRecord = {
  readonly record: Readonly<Record<string, string>>;
  readonly info: { readonly lines: number; readonly error?: unknown };
};

/**
 * Streams the rows of a CSV file with a header row, one at a time. Values are
 * strings; quoted fields may hold commas, quotes and line breaks. A row's line
 * is the physical line it starts on. Blank lines and rows of only empty cells
 * (spreadsheet padding) are skipped; a byte order mark is ignored.
 */
export async function* readCsvRows(path: string, options: ReadCsvRowsOptions = {}): AsyncGenerator<RawImportRow> {
  let headerSeen = false;
  // The line the last complete record (or the header) ended on: an unclosed
  // quote can only have opened after it.
  let completeThrough = 0;
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((name) => name.trim());
      headerSeen = true;
      completeThrough = parser.info.lines;
      options.onHeader?.(names, parser.info.lines);
      return names;
    },
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
  });
  const input = createReadStream(path, { signal: options.signal });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<CsvRecord>) {
      // info.lines is the line the record ends on; line breaks inside quoted
      // fields move its start back.
      let breaks = 0;
      for (const column in item.record) breaks += countLineBreaks(item.record[column] ?? '');
      const line = item.info.lines - breaks;
      completeThrough = item.info.lines;
      if (item.info.error !== undefined) {
        yield { line, problem: 'the number of fields does not match the header' };
      } else {
        yield { line, values: item.record };
      }
    }
  } catch (error) {
    if (isCsvError(error) && error.code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse reports the end of the file; the operator needs the line where the quote opened.
      const opened = await findUnclosedQuote(path, completeThrough);
      throw new ImportFileError({
        file: path,
        line: opened ?? error.lines,
        reason: 'not valid CSV: a quote opened on this line is never closed (the rest of the file was read as one field)',
        cause: error,
      });
    }
    if (isCsvError(error)) {
      throw new ImportFileError({ file: path, line: error.lines, reason: `not valid CSV: ${error.message}`, cause: error });
    }
    throw error;
  } finally {
    input.destroy();
  }
  if (!headerSeen) throw new ImportFileError({ file: path, reason: 'the file is empty; expected a header row of column names' });
}

/**
 * The line of the quote that is still open at the end of the file, reading
 * only what follows line `afterLine` (the end of the last complete record),
 * with CSV's rules: a quote opens a field at its start, `""` inside is a
 * literal quote, and a quote followed by anything else closes it.
 */
async function findUnclosedQuote(path: string, afterLine: number): Promise<number | undefined> {
  const input = createReadStream(path, { encoding: 'utf8' });
  let line = 1;
  let inQuote = false;
  let openedOn = 0;
  let fieldStart = true;
  let pendingQuote = false;
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      for (let index = 0; index < chunk.length; index++) {
        const code = chunk.charCodeAt(index);
        if (line <= afterLine) {
          if (code === 0x0a) line++;
          continue;
        }
        if (pendingQuote) {
          // The quote before this character: `""` stays inside, anything else closed the field.
          pendingQuote = false;
          if (code === 0x22) continue;
          inQuote = false;
        }
        if (inQuote) {
          if (code === 0x22) pendingQuote = true;
          else if (code === 0x0a) line++;
          continue;
        }
        if (code === 0x22 && fieldStart) {
          inQuote = true;
          openedOn = line;
          fieldStart = false;
        } else if (code === 0x0a) {
          line++;
          fieldStart = true;
        } else {
          fieldStart = code === 0x2c;
        }
      }
    }
  } finally {
    input.destroy();
  }
  return inQuote && !pendingQuote ? openedOn : undefined;
}

function countLineBreaks(value: string): number {
  let count = 0;
  for (let index = value.indexOf('\n'); index !== -1; index = value.indexOf('\n', index + 1)) count++;
  return count;
}

function isCsvError(error: unknown): error is Error & { code: string; lines?: number } {
  const code: unknown = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('CSV_');
}
