import { createReadStream } from 'node:fs';
import { ImportFileError } from './import-file-error';
import { findDuplicateJsonKey } from './find-duplicate-json-key';
import type { RawImportRow } from './raw-import-row';

export type ReadJsonRowsOptions = {
  readonly signal?: AbortSignal;
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;
const BOM = 0xfeff;

/** Where the scanner is between elements of the top-level array. */
type Position = 'before-array' | 'first-element' | 'next-element' | 'after-element' | 'in-element' | 'after-array';

/**
 * Streams the elements of a file holding one JSON array, without parsing the
 * whole file: a small scanner tracks strings, escapes and nesting depth to find
 * where each top-level element ends, and only that element is JSON.parse'd.
 * Memory is bounded by the largest element. Each row's line is the line its
 * element starts on.
 *
 * An element that is not valid JSON is a row problem; a file that is not an
 * array, or is cut off, is an ImportFileError.
 */
export async function* readJsonRows(path: string, options: ReadJsonRowsOptions = {}): AsyncGenerator<RawImportRow> {
  const input = createReadStream(path, { encoding: 'utf8', signal: options.signal });
  const refuse = (line: number, reason: string): never => {
    throw new ImportFileError({ file: path, line, reason });
  };

  let position: Position = 'before-array';
  let line = 1;
  let atStart = true;
  // The element being scanned.
  let parts: string[] = [];
  let elementLine = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false;

  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let start = position === 'in-element' ? 0 : -1;
      for (let index = 0; index < chunk.length; index++) {
        const code = chunk.charCodeAt(index);
        if (position === 'in-element') {
          let end = -1;
          if (code === NEWLINE) line++;
          if (inString) {
            if (escaped) escaped = false;
            else if (code === BACKSLASH) escaped = true;
            else if (code === QUOTE) {
              inString = false;
              if (depth === 0) end = index + 1;
            }
          } else if (scalar) {
            if (code === COMMA || code === CLOSE_BRACKET || isWhitespace(code)) {
              end = index;
              if (code === NEWLINE) line--; // counted again below, outside the element
              index--; // the delimiter belongs to the array, not the element
            }
          } else if (code === QUOTE) {
            inString = true;
          } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
            depth++;
          } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
            depth--;
            if (depth === 0) end = index + 1;
          }
          if (end !== -1) {
            parts.push(chunk.slice(start, end));
            const text = parts.join('');
            parts = [];
            position = 'after-element';
            yield parseElement(text, elementLine);
          }
          continue;
        }

        if (code === NEWLINE) {
          line++;
          continue;
        }
        if (isWhitespace(code) || (atStart && code === BOM)) continue;
        atStart = false;
        switch (position) {
          case 'before-array':
            if (code !== OPEN_BRACKET) {
              refuse(line, 'expected a JSON array of row objects ([{...}, {...}]); for one object per line use .ndjson');
            }
            position = 'first-element';
            break;
          case 'first-element':
          case 'next-element':
            if (code === CLOSE_BRACKET) {
              if (position === 'next-element') refuse(line, 'not valid JSON: a comma before the closing ]');
              position = 'after-array';
              break;
            }
            position = 'in-element';
            start = index;
            elementLine = line;
            depth = code === OPEN_BRACE || code === OPEN_BRACKET ? 1 : 0;
            inString = code === QUOTE;
            escaped = false;
            scalar = depth === 0 && !inString;
            break;
          case 'after-element':
            if (code === COMMA) position = 'next-element';
            else if (code === CLOSE_BRACKET) position = 'after-array';
            else refuse(line, 'not valid JSON: expected , or ] after an array element');
            break;
          case 'after-array':
            refuse(line, 'not valid JSON: unexpected content after the closing ]');
        }
      }
      if (position === 'in-element') parts.push(chunk.slice(start));
    }
  } finally {
    input.destroy();
  }

  // (Widened: TypeScript does not see the assignments made inside the loop.)
  const end = position as Position;
  if (end === 'before-array') refuse(line, 'the file is empty; expected a JSON array of row objects');
  if (end !== 'after-array') refuse(line, 'not valid JSON: the file ends before the array is closed');
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === NEWLINE || code === 0x0d || code === 0x09;
}

function parseElement(text: string, line: number): RawImportRow {
  let values: unknown;
  try {
    values = JSON.parse(text) as unknown;
  } catch (error) {
    return { line, problem: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const duplicate = findDuplicateJsonKey(text);
  if (duplicate !== undefined) return { line, problem: `the key ${JSON.stringify(duplicate.slice(0, 40))} appears twice in one object; refusing to guess which value is right` };
  return { line, values };
}
