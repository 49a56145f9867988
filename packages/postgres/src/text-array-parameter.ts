import type { SqlClient } from './sql-client';

/** PostgreSQL's type oid of `text`, the element type a binary text[] names. */
const TEXT_TYPE_OID = 25;

/**
 * `texts` (strings, or UTF-8 bytes) bound to a `$n::text[]` parameter, in the
 * form the client sends fastest. On a server: the array's binary form (a
 * header, then each element's length and bytes), which PostgreSQL takes
 * element by element without parsing anything: a cold agent-log cycle sends
 * 7.5 MB of state this way, where an array literal or a JSON array is parsed
 * whole at bind (about 35 ms for jsonb). PGlite takes the array itself.
 */
export function textArrayParameter(kind: SqlClient['kind'], texts: ReadonlyArray<string | Uint8Array>): Buffer | string[] {
  if (kind !== 'postgres') return texts.map((text) => (typeof text === 'string' ? text : decoder.decode(text)));
  // Sized for one byte per character first (state is nearly always ASCII);
  // measured exactly only if a text does not fit that.
  let size = HEADER_BYTES + 4 * texts.length;
  for (const text of texts) size += text.length;
  const ascii = fillTextArray(Buffer.allocUnsafe(size), texts);
  if (ascii !== undefined) return ascii;
  size = HEADER_BYTES + 4 * texts.length;
  for (const text of texts) size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  return fillTextArray(Buffer.allocUnsafe(size), texts) as Buffer;
}

/** ndim, has-nulls flag, element type, then the one dimension's length and lower bound. */
const HEADER_BYTES = 20;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The binary text[] of `texts` in `bytes`, or undefined if they do not fit (characters beyond ASCII). */
function fillTextArray(bytes: Buffer, texts: ReadonlyArray<string | Uint8Array>): Buffer | undefined {
  bytes.writeInt32BE(1, 0);
  bytes.writeInt32BE(0, 4);
  bytes.writeUInt32BE(TEXT_TYPE_OID, 8);
  bytes.writeInt32BE(texts.length, 12);
  bytes.writeInt32BE(1, 16);
  let at = HEADER_BYTES;
  for (let index = 0; index < texts.length; index += 1) {
    const text = texts[index] as string | Uint8Array;
    const start = at + 4;
    let length: number;
    if (typeof text === 'string') {
      const { read, written } = encoder.encodeInto(text, bytes.subarray(start));
      if (read !== text.length) return undefined;
      length = written;
    } else {
      if (start + text.length > bytes.length) return undefined;
      bytes.set(text, start);
      length = text.length;
    }
    bytes.writeInt32BE(length, at);
    at = start + length;
  }
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}
