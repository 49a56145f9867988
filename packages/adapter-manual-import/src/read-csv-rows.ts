import { createReadStream } from 'node:fs';
import { ImportFileError } from './import-file-error';
import type { CsvLineParser } from './parse-csv-line';
import type { RawImportRow } from './raw-import-row';

export type ReadCsvRowsOptions = {
  readonly signal?: AbortSignal;
  /** Called with the trimmed header names and their line before any row; throw to refuse the file. */
  readonly onHeader?: (names: readonly string[], line: number) => void;
  /**
   * Given the header, a reader of plain lines (no quote) straight into rows;
   * a line it returns undefined for is split into fields as usual.
   */
  readonly lineParser?: (names: readonly string[]) => CsvLineParser | undefined;
};

const QUOTE = 34; // "
const COMMA = 44; // ,
const NEWLINE = 10; // \n
const RETURN = 13; // \r

/**
 * Streams the rows of a CSV file (RFC 4180) with a header row, one at a time.
 * Values are strings; quoted fields may hold commas, doubled quotes and line
 * breaks. A row's line is the physical line it starts on. Lines end with LF or
 * CRLF. Blank lines and rows of only empty cells (spreadsheet padding) are
 * skipped; a byte order mark is ignored. A quote that opens or closes a field
 * in the wrong place, or never closes, makes the file invalid.
 *
 * Written for speed rather than with a general CSV library: an export of a
 * million requests spends most of its import here, and a line without a quote
 * is split with indexOf alone.
 */
export async function* readCsvRows(path: string, options: ReadCsvRowsOptions = {}): AsyncGenerator<RawImportRow> {
  for await (const batch of readCsvRowBatches(path, options)) yield* batch;
}

/**
 * readCsvRows a piece of the file (64 KB) at a time: one await per
 * several hundred rows instead of one per row, which a million-row import feels.
 * Small pieces keep each batch young: its rows die before a garbage collection
 * would promote them, which halves the peak memory of a large import.
 */
export async function* readCsvRowBatches(path: string, options: ReadCsvRowsOptions = {}): AsyncGenerator<RawImportRow[]> {
  const input = createReadStream(path, { signal: options.signal, encoding: 'utf8', highWaterMark: 1 << 16 });
  let names: string[] | undefined;
  let parseLine: CsvLineParser | undefined;
  let pending = '';
  // The physical line `pending` starts on.
  let line = 1;
  let first = true;
  try {
    for await (const piece of input as AsyncIterable<string>) {
      let text = pending + (first && piece.charCodeAt(0) === 0xfeff ? piece.slice(1) : piece);
      first = false;
      let start = 0;
      // The next quote at or after `start`, found once per stretch so that a file without quotes is scanned once.
      let quoteAt = -1;
      const batch: RawImportRow[] = [];
      for (;;) {
        if (quoteAt !== Number.POSITIVE_INFINITY && quoteAt < start) {
          quoteAt = text.indexOf('"', start);
          if (quoteAt === -1) quoteAt = Number.POSITIVE_INFINITY;
        }
        if (parseLine !== undefined) {
          const newline = text.indexOf('\n', start);
          if (newline === -1) break;
          if (quoteAt > newline) {
            // A line without a quote goes to the fast reader; what it declines is read the general way below.
            const contentEnd = newline > start && text.charCodeAt(newline - 1) === RETURN ? newline - 1 : newline;
            const row = parseLine(text, start, contentEnd, line);
            if (row !== undefined) {
              batch.push({ line, row });
              line++;
              start = newline + 1;
              continue;
            }
          }
        }
        const record = readRecord(text, start, quoteAt, false, path, line);
        if (record === undefined) break;
        const row = toRow(record, line);
        line += record.lines;
        start = record.end;
        if (row === undefined) continue;
        if (names === undefined) {
          names = row.map((name) => name.trim());
          checkFileShape(names, path, line - record.lines);
          options.onHeader?.(names, line - record.lines);
          parseLine = options.lineParser?.(names);
          continue;
        }
        batch.push(shape(names, row, line - record.lines));
      }
      pending = text.slice(start);
      text = '';
      if (batch.length > 0) yield batch;
    }
    if (pending.length > 0) {
      const quoteAt = pending.indexOf('"');
      const record = readRecord(pending, 0, quoteAt === -1 ? Number.POSITIVE_INFINITY : quoteAt, true, path, line);
      const row = record === undefined ? undefined : toRow(record, line);
      if (row !== undefined) {
        if (names === undefined) {
          names = row.map((name) => name.trim());
          checkFileShape(names, path, line);
          options.onHeader?.(names, line);
        } else {
          yield [shape(names, row, line)];
        }
      }
    }
  } finally {
    input.destroy();
  }
  if (names === undefined) throw new ImportFileError({ file: path, reason: 'the file is empty; expected a header row of column names' });
}

/**
 * A file a spreadsheet saved in another shape shows in its header first: name
 * the shape rather than an "unknown column" made of the whole header.
 */
function checkFileShape(names: readonly string[], path: string, line: number): void {
  const refuse = (reason: string) => {
    throw new ImportFileError({ file: path, line, reason });
  };
  // UTF-16 read as UTF-8: NUL between the letters, its byte order mark as two undecodable bytes.
  if (names.some((name) => name.includes('\0')) || names[0]?.startsWith('\uFFFD\uFFFD')) refuse('the file is not UTF-8 text (it looks like UTF-16); save it as "CSV UTF-8"');
  if (names.some((name) => name.includes('\r'))) {
    refuse('lines end with a carriage return alone (CR), as "CSV (Macintosh)" saves them; utt reads lines that end with LF or CRLF: save the file as "CSV UTF-8" or convert its line ends');
  }
  const separator = names.length === 1 ? /[;\t|]/.exec(names[0] ?? '')?.[0] : undefined;
  if (separator !== undefined) {
    refuse(`the header is one column separated by ${separator === '\t' ? 'tabs' : `"${separator}"`}: utt reads comma-separated CSV; save the file with commas between the columns`);
  }
}

type CsvRecord = {
  readonly fields: string[];
  /** Index just after the record's line end. */
  readonly end: number;
  /** Physical lines the record spans, its line end included. */
  readonly lines: number;
};

/** Undefined when the text holds no complete record from `start` (unless at the end of the file). */
function readRecord(text: string, start: number, quoteAt: number, atEnd: boolean, path: string, line: number): CsvRecord | undefined {
  const newline = text.indexOf('\n', start);
  if (newline === -1 && !atEnd) return undefined;
  const lineEnd = newline === -1 ? text.length : newline;
  if (quoteAt > lineEnd) {
    const contentEnd = lineEnd > start && text.charCodeAt(lineEnd - 1) === RETURN ? lineEnd - 1 : lineEnd;
    return { fields: text.slice(start, contentEnd).split(','), end: newline === -1 ? text.length : newline + 1, lines: 1 };
  }
  return readQuotedRecord(text, start, atEnd, path, line);
}

/** The slow path: a record with at least one quote, possibly over several lines. */
function readQuotedRecord(text: string, start: number, atEnd: boolean, path: string, line: number): CsvRecord | undefined {
  const fields: string[] = [];
  let lines = 1;
  let index = start;
  for (;;) {
    let value: string;
    if (text.charCodeAt(index) === QUOTE) {
      value = '';
      let from = index + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close === -1) {
          if (!atEnd) return undefined;
          throw invalid(path, line, 'a quote opened on this line is never closed (the rest of the file was read as one field)');
        }
        if (close + 1 >= text.length && !atEnd) return undefined;
        const piece = text.slice(from, close);
        value += piece;
        lines += countNewlines(piece);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          from = close + 2;
          continue;
        }
        index = close + 1;
        break;
      }
      const next = text.charCodeAt(index);
      if (!(index >= text.length || next === COMMA || next === NEWLINE || (next === RETURN && text.charCodeAt(index + 1) === NEWLINE))) {
        throw invalid(path, line + lines - 1, `Invalid Closing Quote: got "${text[index]}" at line ${line + lines - 1} instead of delimiter, record delimiter, trimable character or quote`);
      }
    } else {
      let end = index;
      for (;;) {
        const code = text.charCodeAt(end);
        if (end >= text.length || code === COMMA || code === NEWLINE || (code === RETURN && text.charCodeAt(end + 1) === NEWLINE)) break;
        if (code === QUOTE) throw invalid(path, line + lines - 1, `Invalid Opening Quote: a quote is found in field ${fields.length} at line ${line + lines - 1}`);
        end++;
      }
      if (end >= text.length && !atEnd) return undefined;
      value = text.slice(index, end);
      index = end;
    }
    fields.push(value);
    const code = text.charCodeAt(index);
    if (code === COMMA) {
      index++;
      continue;
    }
    if (index >= text.length) return { fields, end: text.length, lines };
    // A line end (\n or \r\n).
    index += code === RETURN ? 2 : 1;
    return { fields, end: index, lines };
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  return count;
}

/** The record's fields, or undefined for a blank line or a row of only empty cells. */
function toRow(record: CsvRecord, _line: number): string[] | undefined {
  const { fields } = record;
  for (const field of fields) if (field.trim() !== '') return fields;
  return undefined;
}

function shape(names: readonly string[], fields: readonly string[], line: number): RawImportRow {
  if (fields.length !== names.length) return { line, problem: 'the number of fields does not match the header' };
  const values: Record<string, string> = {};
  for (let index = 0; index < names.length; index++) values[names[index] as string] = fields[index] as string;
  return { line, values };
}

function invalid(path: string, line: number, message: string): ImportFileError {
  return new ImportFileError({ file: path, line, reason: `not valid CSV: ${message}` });
}
