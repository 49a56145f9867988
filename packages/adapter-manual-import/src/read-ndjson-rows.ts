import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { findDuplicateJsonKey } from './find-duplicate-json-key';
import type { RawImportRow } from './raw-import-row';

/**
 * Streams the rows of an NDJSON (JSON Lines) file: one JSON object per line,
 * blank lines skipped. A line that is not JSON is a row problem, not the end
 * of the import.
 */
export async function* readNdjsonRows(path: string, options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<RawImportRow> {
  const input = createReadStream(path, { encoding: 'utf8', signal: options.signal });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const trimmed = line === 1 ? text.replace(/^\uFEFF/, '').trim() : text.trim();
      if (trimmed === '') continue;
      yield parseLine(trimmed, line);
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

function parseLine(text: string, line: number): RawImportRow {
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
