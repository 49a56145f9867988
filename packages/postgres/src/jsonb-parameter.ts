import type { SqlClient } from './sql-client';

/**
 * A JSON text bound to a `$n::jsonb` parameter, in the form the client sends
 * fastest. On a server: jsonb's binary form (a version byte, 1, then the text
 * as UTF-8), made now, so that the driver copies bytes when it sends the
 * statement instead of encoding megabytes of text in the pause between two
 * statements, when PostgreSQL waits for it. A cold agent-log cycle sends 12 MB
 * of rows and state: each batch is encoded while the database runs the
 * statement before. PGlite takes the text.
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
const decoder = new TextDecoder();

/**
 * The JSON array whose elements are `texts` (each one JSON value, as text or
 * UTF-8 bytes), in jsonbParameter's form, the texts copied in as they are:
 * what a state statement sends when an adapter staged values as their JSON
 * text, without serialising or encoding them again.
 */
export function jsonbArrayParameter(kind: SqlClient['kind'], texts: ReadonlyArray<string | Uint8Array>): string | Buffer {
  if (kind !== 'postgres') return `[${texts.map((text) => (typeof text === 'string' ? text : decoder.decode(text))).join(',')}]`;
  // Sized for one byte per character first, as jsonbParameter is; measured
  // exactly only if a text does not fit that.
  let size = 2 + texts.length;
  for (const text of texts) size += text.length;
  const ascii = fillJsonArray(Buffer.allocUnsafe(size), texts);
  if (ascii !== undefined) return ascii;
  size = 2 + texts.length;
  for (const text of texts) size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  return fillJsonArray(Buffer.allocUnsafe(size), texts) as Buffer;
}

/** jsonb's binary form of `[text,text,…]` in `bytes`, or undefined if the texts do not fit (characters beyond ASCII). */
function fillJsonArray(bytes: Buffer, texts: ReadonlyArray<string | Uint8Array>): Buffer | undefined {
  bytes[0] = 1;
  bytes[1] = 0x5b; // [
  let at = 2;
  for (let index = 0; index < texts.length; index += 1) {
    if (index > 0) bytes[at++] = 0x2c; // ,
    const text = texts[index] as string | Uint8Array;
    if (typeof text === 'string') {
      const { read, written } = encoder.encodeInto(text, bytes.subarray(at, bytes.length - 1));
      if (read !== text.length) return undefined;
      at += written;
    } else {
      if (at + text.length > bytes.length - 1) return undefined;
      bytes.set(text, at);
      at += text.length;
    }
  }
  bytes[at++] = 0x5d; // ]
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}
