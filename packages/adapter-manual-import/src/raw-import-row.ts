/**
 * A row as a reader yields it, before validation: its 1-based physical line
 * and its values by column, or a problem that makes the whole row unreadable
 * (an NDJSON line that is not JSON, a CSV row with the wrong number of fields).
 */
export type RawImportRow =
  | { readonly line: number; readonly values: unknown }
  | { readonly line: number; readonly problem: string };
