import type { ImportEvent } from './import-usage-file';

/**
 * A row as a reader yields it, before validation: its 1-based physical line
 * and its values by column, or a problem that makes the whole row unreadable
 * (an NDJSON line that is not JSON, a CSV row with the wrong number of fields),
 * or a row a fast path has already read and validated.
 */
export type RawImportRow =
  | { readonly line: number; readonly values: unknown }
  | { readonly line: number; readonly problem: string }
  /** Already read into a valid row by a reader's fast path (a plain CSV line). */
  | { readonly line: number; readonly row: ImportEvent };
