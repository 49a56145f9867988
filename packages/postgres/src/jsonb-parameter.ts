import type { SqlClient } from './sql-client';

/**
 * A JSON text bound to a `$n::jsonb` parameter, in the form the client sends
 * fastest. On a server: jsonb's binary form (a version byte, 1, then the text
 * as UTF-8), made now, so that the driver copies bytes when it sends the
 * statement instead of encoding megabytes of text in the pause between two
 * statements, when PostgreSQL waits for it. A cold agent-log cycle sends 4.8 MB
 * of rows: each batch is encoded while the database runs the statement
 * before. PGlite takes the text.
 */
export function jsonbParameter(kind: SqlClient['kind'], text: string): string | Buffer {
  if (kind !== 'postgres') return text;
  // JSON.stringify's text is nearly always ASCII, one byte per character:
  // encoded in one pass into a buffer of that size, where measuring the UTF-8
  // length first (Buffer.byteLength) read the megabytes twice. Text it does
  // not fit (any other character) is measured and encoded again.
  const ascii = Buffer.allocUnsafe(1 + text.length);
  const { read, written } = encoder.encodeInto(text, ascii.subarray(1));
  if (read === text.length && written === text.length) {
    ascii[0] = 1;
    return ascii;
  }
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(text));
  bytes[0] = 1;
  bytes.write(text, 1);
  return bytes;
}

const encoder = new TextEncoder();
