import { LARGE_PARAMETER_BYTES, ParameterPieces } from './bind-large-parameters';
import type { SqlClient } from './sql-client';

/** PostgreSQL's type oid of `text`, the element type a binary text[] names. */
const TEXT_TYPE_OID = 25;

/** The length before each element of a binary array. */
const LENGTH_BYTES = 4;

/**
 * `texts` (strings, or UTF-8 bytes) bound to a `$n::text[]` parameter, in the
 * form the client sends fastest. On a server: the array's binary form (a
 * header, then each element's length and bytes), which PostgreSQL takes
 * element by element without parsing anything: a cold agent-log cycle sends
 * 7.5 MB of state this way, where an array literal or a JSON array is parsed
 * whole at bind (about 35 ms for jsonb). PGlite takes the array itself.
 *
 * Elements that already lie in memory framed as the array holds them (each
 * after its length, one after another: the agent-log adapters' texts, see
 * AsciiWriter.takeBytes in @utt/agent-logs) are sent from there when they
 * make runs of at least LARGE_PARAMETER_BYTES: the parameter is then
 * ParameterPieces, the rest of the array copied around those runs. The bytes
 * are the same either way; the hours of a cold scan (5.5 MB) are no longer
 * copied into fresh memory, whose first touch alone cost milliseconds of page
 * faults. Such texts must not change until the statement is sent.
 */
export function textArrayParameter(kind: SqlClient['kind'], texts: ReadonlyArray<string | Uint8Array>): Buffer | ParameterPieces | string[] {
  if (kind !== 'postgres') return texts.map((text) => (typeof text === 'string' ? text : decoder.decode(text)));
  const runs = framedRuns(texts);
  if (runs.length === 0) return encodeElements(texts, 0, texts.length);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const run of runs) {
    if (from === 0 || run.first > from) pieces.push(encodeElements(texts, from, run.first));
    pieces.push(run.bytes);
    from = run.end;
  }
  if (from < texts.length) pieces.push(encodeElements(texts, from, texts.length));
  return new ParameterPieces(pieces);
}

/** ndim, has-nulls flag, element type, then the one dimension's length and lower bound. */
const HEADER_BYTES = 20;

const decoder = new TextDecoder();

/** Elements texts[first, end) as they lie in memory, framed: their lengths and bytes, one after another. */
type FramedRun = { readonly first: number; readonly end: number; readonly bytes: Buffer };

/**
 * The runs of byte elements that their memory already holds as the binary
 * array would (each right after the one before, preceded by its length,
 * big-endian), of LARGE_PARAMETER_BYTES or more. What is checked is only that
 * the bytes there are the bytes the array needs.
 */
function framedRuns(texts: ReadonlyArray<string | Uint8Array>): FramedRun[] {
  const runs: FramedRun[] = [];
  let first = -1;
  let memory: ArrayBufferLike | undefined;
  let bytesOfMemory: Uint8Array | undefined;
  let runMemory: ArrayBufferLike | undefined;
  let runStart = 0;
  let runEnd = 0;
  const close = (end: number) => {
    if (first >= 0 && runEnd - runStart >= LARGE_PARAMETER_BYTES) {
      runs.push({ first, end, bytes: Buffer.from(runMemory as ArrayBuffer, runStart, runEnd - runStart) });
    }
    first = -1;
  };
  for (let index = 0; index < texts.length; index += 1) {
    const text = texts[index] as string | Uint8Array;
    if (typeof text === 'string') {
      close(index);
      continue;
    }
    const at = text.byteOffset;
    if (text.buffer !== memory) {
      memory = text.buffer;
      bytesOfMemory = new Uint8Array(memory);
    }
    const all = bytesOfMemory as Uint8Array;
    const length = text.length;
    const framed =
      at >= LENGTH_BYTES &&
      all[at - 4] === length >>> 24 &&
      all[at - 3] === ((length >>> 16) & 0xff) &&
      all[at - 2] === ((length >>> 8) & 0xff) &&
      all[at - 1] === (length & 0xff);
    if (framed && first >= 0 && memory === runMemory && at === runEnd + LENGTH_BYTES) {
      runEnd = at + length;
      continue;
    }
    close(index);
    if (framed) {
      first = index;
      runMemory = memory;
      runStart = at - LENGTH_BYTES;
      runEnd = at + length;
    }
  }
  close(texts.length);
  return runs;
}

/**
 * Elements texts[from, to) of the binary text[] of `texts`, after its header
 * if `from` is 0. Sized for one byte per character first (state is nearly
 * always ASCII), with room after the last element for one string's worst
 * case (three bytes a character), so that a string written whole tells by
 * its length alone whether it was ASCII; measured exactly only if one was not.
 */
function encodeElements(texts: ReadonlyArray<string | Uint8Array>, from: number, to: number): Buffer {
  let size = (from === 0 ? HEADER_BYTES : 0) + LENGTH_BYTES * (to - from);
  let longestString = 0;
  for (let index = from; index < to; index += 1) {
    const text = texts[index] as string | Uint8Array;
    size += text.length;
    if (typeof text === 'string' && text.length > longestString) longestString = text.length;
  }
  const ascii = fillElements(Buffer.allocUnsafe(size + 2 * longestString), texts, from, to, true);
  if (ascii !== undefined) return ascii;
  size = (from === 0 ? HEADER_BYTES : 0) + LENGTH_BYTES * (to - from);
  for (let index = from; index < to; index += 1) {
    const text = texts[index] as string | Uint8Array;
    size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  }
  return fillElements(Buffer.allocUnsafe(size), texts, from, to, false) as Buffer;
}

/**
 * Elements texts[from, to) (after the array's header if `from` is 0) in
 * `bytes`, then whatever room is left; undefined if `asciiOnly` and a string
 * is not ASCII.
 *
 * One small loop calling Buffer's write and Uint8Array's set, with the
 * lengths written byte by byte: it runs once per process over thousands of
 * state keys, and V8 optimises it while it runs. Each element's subarray,
 * encodeInto and writeInt32BE (Node's JavaScript around the native calls)
 * made that optimisation several times dearer than the loop itself, on the
 * threads this process's CPU time counts too (bench/agent-logs).
 */
function fillElements(bytes: Buffer, texts: ReadonlyArray<string | Uint8Array>, from: number, to: number, asciiOnly: boolean): Buffer | undefined {
  let at = 0;
  if (from === 0) {
    bytes.writeInt32BE(1, 0);
    bytes.writeInt32BE(0, 4);
    bytes.writeUInt32BE(TEXT_TYPE_OID, 8);
    bytes.writeInt32BE(texts.length, 12);
    bytes.writeInt32BE(1, 16);
    at = HEADER_BYTES;
  }
  for (let index = from; index < to; index += 1) {
    const text = texts[index] as string | Uint8Array;
    const start = at + LENGTH_BYTES;
    let length: number;
    if (typeof text === 'string') {
      // The room left always holds the string whole (see encodeElements):
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
