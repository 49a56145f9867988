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
  // Sized for one byte per character first (state is nearly always ASCII),
  // with room after the last element for one string's worst case (three
  // bytes a character), so that a string written whole tells by its length
  // alone whether it was ASCII. Measured exactly only if one was not.
  let size = HEADER_BYTES + 4 * texts.length;
  let longestString = 0;
  for (let index = 0; index < texts.length; index += 1) {
    const text = texts[index] as string | Uint8Array;
    size += text.length;
    if (typeof text === 'string' && text.length > longestString) longestString = text.length;
  }
  const ascii = fillTextArray(Buffer.allocUnsafe(size + 2 * longestString), texts, true);
  if (ascii !== undefined) return ascii;
  size = HEADER_BYTES + 4 * texts.length;
  for (const text of texts) size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  return fillTextArray(Buffer.allocUnsafe(size), texts, false) as Buffer;
}

/** ndim, has-nulls flag, element type, then the one dimension's length and lower bound. */
const HEADER_BYTES = 20;

const decoder = new TextDecoder();

/**
 * The binary text[] of `texts` in `bytes` (the array's bytes, then whatever
 * room is left), or undefined if `asciiOnly` and a string is not ASCII.
 *
 * One small loop calling Buffer's write and Uint8Array's set, with
 * the lengths written byte by byte: it runs once per process over thousands
 * of state keys, and V8 optimises it while it runs. Each element's
 * subarray, encodeInto and writeInt32BE (Node's JavaScript around the native
 * calls) made that optimisation several times dearer than the loop itself,
 * on the threads this process's CPU time counts too (bench/agent-logs).
 */
function fillTextArray(bytes: Buffer, texts: ReadonlyArray<string | Uint8Array>, asciiOnly: boolean): Buffer | undefined {
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
      // The room left always holds the string whole (see textArrayParameter):
      // as many bytes as characters means every character was ASCII.
      length = bytes.write(text, start);
      if (asciiOnly && length !== text.length) return undefined;
    } else {
      bytes.set(text, start);
      length = text.length;
    }
    bytes[at] = length >>> 24;
    bytes[at + 1] = (length >>> 16) & 0xff;
    bytes[at + 2] = (length >>> 8) & 0xff;
    bytes[at + 3] = length & 0xff;
    at = start + length;
  }
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}
