import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type FileCursor, HEAD_BYTES, TAIL_BYTES } from './file-cursor';
import { hashKey } from './hash-key';

export type ReadNewLinesResult = {
  /** The cursor to keep for the next cycle. */
  readonly cursor: FileCursor;
  /** Nothing was read: size, mtime and identity are unchanged. */
  readonly unchanged: boolean;
  /** The file was read from the start again: truncated, replaced (new inode) or rewritten in place. */
  readonly reset: boolean;
  readonly bytesRead: number;
};

const CHUNK_BYTES = 1 << 22;

// One read buffer per thread, reused from file to file (the reads are
// synchronous, and lines handed on as bytes must be copied before the call
// returns): a fresh buffer per file, a gigabyte of them in a cold scan, kept
// every thread's garbage collector busy. A buffer grown for a longer line is
// used for that file only.
let sharedReadBuffer: Buffer | undefined;

/**
 * Where readNewLines hands each line: a function of the decoded line, or
 * `bytes`, which takes the line where it lies in the read buffer
 * (`bytes[start, end)`, newline left out) for a parser that reads bytes and
 * would waste the decoding. The buffer is reused once the call returns.
 */
export type LineSink =
  | ((line: string, lineNumber: number) => void)
  | { readonly bytes: (bytes: Buffer, start: number, end: number, lineNumber: number) => void };

/**
 * Calls `onLine` for every complete line appended to `file` since `previous`
 * (every line, when there is no previous cursor or the file was reset). A last
 * line without its newline is still being written: it is left for the next
 * cycle, and the cursor stops before it. Bytes appended while reading are
 * left for the next cycle too (the file's size is taken once, up front).
 */
export async function readNewLines(
  file: string,
  previous: FileCursor | undefined,
  onLine: LineSink,
  /** Called once before the first line, with whether the file is read from the start again. */
  onBegin?: (reset: boolean) => void,
  /**
   * Only lines containing this text are passed on (the others are
   * still counted for line numbers): most of a transcript's bytes are tool
   * output that cannot hold usage, and never decoding them is the largest
   * saving of a cold scan.
   */
  mustContain?: string,
): Promise<ReadNewLinesResult> {
  const needle = mustContain === undefined ? undefined : needleOf(mustContain);
  const onLineBytes = typeof onLine === 'function' ? decodingEach(onLine) : onLine.bytes;
  if (previous) {
    // Most files are unchanged in an incremental cycle: a synchronous stat (no
    // open, no thread-pool round trip) keeps a cycle over thousands of them cheap.
    const before = statSync(file);
    if (sameFile(before, previous) && before.size === previous.size && before.mtimeMs === previous.mtimeMs) {
      return { cursor: previous, unchanged: true, reset: false, bytesRead: 0 };
    }
  }
  // Synchronous reads: a cold scan reads thousands of files chunk by chunk, and
  // a thread-pool round trip per read costs more than the read itself (the
  // scan yields to the event loop between files instead).
  let handle: number;
  try {
    handle = openSync(file, 'r');
  } catch (error) {
    // A file first read is not stat'ed beforehand (the open says the same);
    // should the open fail, the stat's error is the one reported, as ever.
    if (!previous) statSync(file);
    throw error;
  }
  try {
    const info = fstatSync(handle);
    const size = info.size;
    let reset = false;
    if (previous) {
      if (!sameFile(info, previous) || size < previous.offset || size < previous.size) reset = true;
      else if (size === previous.size && info.mtimeMs === previous.mtimeMs) {
        return { cursor: previous, unchanged: true, reset: false, bytesRead: 0 };
      }
    }
    // A file read from its start has its first bytes in the first read: no read of its own for them.
    let head = '';
    if (previous) {
      const headBytes = readHead(handle, size);
      head = headDigest(headBytes, headBytes.length);
      // Same inode and not shorter, but the first bytes differ: rewritten in place.
      if (!reset && !sameHead(headBytes, previous.head)) reset = true;
      // The first bytes of a Claude Code transcript are the same in every file
      // (`{"parentUuid":null,"isSidechain":false,"userType":"external","cw`):
      // a file overwritten in place (cp, a restore, a sync tool) with another
      // as long or longer is told by the bytes just before the offset instead.
      // A cursor of an earlier version has no record of them: not checked.
      if (!reset && previous.tail !== undefined && !sameTail(handle, previous.offset, previous.tail)) reset = true;
    }

    onBegin?.(reset);
    let position = previous && !reset ? previous.offset : 0;
    let lineNumber = previous && !reset ? previous.lines : 0;
    const startedAt = position;
    let buffer = (sharedReadBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES));
    let carried = 0;
    let consumed = position;
    // The digest of the bytes before `consumed`, and the offset it was taken at.
    let tail = previous && !reset ? previous.tail : undefined;
    let tailAt = tail === undefined ? -1 : consumed;
    while (position < size) {
      if (carried === buffer.length) {
        // One line longer than the buffer: grow it rather than split the line.
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, carried);
        buffer = larger;
      }
      const want = Math.min(buffer.length - carried, size - position);
      const bytesRead = readSync(handle, buffer, carried, want, position);
      if (bytesRead === 0) break;
      if (position === 0 && !previous) head = headDigest(buffer, Math.min(HEAD_BYTES, bytesRead));
      position += bytesRead;
      const end = carried + bytesRead;
      const lastNewline = buffer.lastIndexOf(10, end - 1);
      if (lastNewline < 0) {
        carried = end;
        continue;
      }
      if (needle) lineNumber = emitMatchingLines(buffer, lastNewline, needle, lineNumber, onLineBytes);
      else if (typeof onLine === 'function') lineNumber = emitAllLines(buffer, lastNewline, lineNumber, onLine);
      else lineNumber = emitAllLineBytes(buffer, lastNewline, lineNumber, onLine.bytes);
      carried = end - lastNewline - 1;
      // The bytes before the last newline are still in the buffer (one hash a chunk, not a read of its own).
      if (lastNewline + 1 >= TAIL_BYTES) {
        tail = tailDigest(buffer, lastNewline + 1, TAIL_BYTES);
        tailAt = position - carried;
      }
      buffer.copy(buffer, 0, lastNewline + 1, end);
      consumed = position - carried;
    }
    // Up to HEAD_BYTES, the head covers every byte before the offset.
    if (consumed <= HEAD_BYTES) tail = undefined;
    else if (tailAt !== consumed) tail = readTail(handle, consumed);
    return {
      cursor: {
        dev: info.dev,
        ino: info.ino,
        size,
        mtimeMs: info.mtimeMs,
        offset: consumed,
        lines: lineNumber,
        head,
        tail,
        carry: previous && !reset ? previous.carry : undefined,
      },
      unchanged: false,
      reset,
      bytesRead: position - startedAt,
    };
  } finally {
    closeSync(handle);
  }
}

/** Reads a whole file when its size, mtime or identity changed since `previous`; null when unchanged. */
export async function readWholeFileIfChanged(
  file: string,
  previous: FileCursor | undefined,
): Promise<{ text: string; cursor: FileCursor } | null> {
  const handle = openSync(file, 'r');
  try {
    const info = fstatSync(handle);
    if (previous && sameFile(info, previous) && info.size === previous.size && info.mtimeMs === previous.mtimeMs) {
      return null;
    }
    const buffer = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < info.size) {
      const bytesRead = readSync(handle, buffer, filled, info.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return {
      text: buffer.toString('utf8', 0, filled),
      cursor: {
        dev: info.dev,
        ino: info.ino,
        size: filled,
        mtimeMs: info.mtimeMs,
        offset: filled,
        lines: 0,
        head: headDigest(buffer, Math.min(HEAD_BYTES, filled)),
      },
    };
  } finally {
    closeSync(handle);
  }
}

function readHead(handle: number, size: number): Buffer {
  const length = Math.min(HEAD_BYTES, size);
  if (length === 0) return Buffer.alloc(0);
  const buffer = Buffer.alloc(length);
  const bytesRead = readSync(handle, buffer, 0, length, 0);
  return buffer.subarray(0, bytesRead);
}

/**
 * The cursor's record of a file's first bytes: their count and a 64-bit hash
 * (`length:hash`), a ninth of the hex it replaces in a state that holds one
 * cursor per transcript and is loaded every cycle.
 */
function headDigest(bytes: Buffer, length: number): string {
  return length === 0 ? '' : `${length}:${hashKey(bytes.toString('latin1', 0, length))}`;
}

/** The digest of the `length` bytes of `buffer` before `end` (`length:hash`, as headDigest). */
function tailDigest(buffer: Buffer, end: number, length: number): string {
  return length === 0 ? '' : `${length}:${hashKey(buffer.toString('latin1', end - length, end))}`;
}

/** The digest of the TAIL_BYTES bytes before `offset` (beyond the head), read from the file. */
function readTail(handle: number, offset: number): string | undefined {
  const length = TAIL_BYTES;
  const buffer = Buffer.alloc(length);
  const bytesRead = readSync(handle, buffer, 0, length, offset - length);
  return bytesRead === length ? tailDigest(buffer, length, length) : undefined;
}

/** Whether the bytes before `offset` are still those the cursor recorded (`recorded`: a tailDigest). */
function sameTail(handle: number, offset: number, recorded: string): boolean {
  const colon = recorded.indexOf(':');
  const length = Number(recorded.slice(0, colon));
  if (colon < 0 || !Number.isSafeInteger(length) || length <= 0 || length > offset) return false;
  const buffer = Buffer.alloc(length);
  const bytesRead = readSync(handle, buffer, 0, length, offset - length);
  return bytesRead === length && tailDigest(buffer, length, length) === recorded;
}

/** Whether the file still starts with the bytes the cursor recorded (a digest, or the hex of earlier cursors). */
function sameHead(bytes: Buffer, recorded: string): boolean {
  const colon = recorded.indexOf(':');
  if (colon < 0) return bytes.toString('hex').startsWith(recorded);
  const length = Number(recorded.slice(0, colon));
  return length <= bytes.length && headDigest(bytes, length) === recorded;
}

function sameFile(info: { dev: number; ino: number }, cursor: FileCursor): boolean {
  return info.dev === cursor.dev && info.ino === cursor.ino;
}

/** Every line of buffer[0, end) (end is a newline); returns the last line number. */
function emitAllLines(buffer: Buffer, end: number, lineNumber: number, onLine: (line: string, lineNumber: number) => void): number {
  const text = buffer.toString('utf8', 0, end);
  let start = 0;
  let number = lineNumber;
  for (;;) {
    const newline = text.indexOf('\n', start);
    const stop = newline < 0 ? text.length : newline;
    number += 1;
    if (stop > start) {
      const line = text.charCodeAt(stop - 1) === 13 ? text.slice(start, stop - 1) : text.slice(start, stop);
      if (line.length > 0) onLine(line, number);
    }
    if (newline < 0) return number;
    start = newline + 1;
  }
}

type LineBytes = (bytes: Buffer, start: number, end: number, lineNumber: number) => void;

function decodingEach(onLine: (line: string, lineNumber: number) => void): LineBytes {
  return (bytes, start, end, lineNumber) => onLine(bytes.toString('utf8', start, end), lineNumber);
}

/** Every line of buffer[0, end) (end is a newline), in place; returns the last line number. */
function emitAllLineBytes(buffer: Buffer, end: number, lineNumber: number, onLine: LineBytes): number {
  let start = 0;
  let number = lineNumber;
  for (;;) {
    const newline = buffer.indexOf(10, start);
    const stop = newline < 0 || newline > end ? end : newline;
    number += 1;
    const lineEnd = stop > start && buffer[stop - 1] === 13 ? stop - 1 : stop;
    if (lineEnd > start) onLine(buffer, start, lineEnd, number);
    if (stop === end) return number;
    start = stop + 1;
  }
}

/**
 * The text a line must contain, searched for from its rarest byte. Buffer#indexOf
 * looks for a short needle's first byte with memchr and compares the rest at
 * each hit: for `"usage"` that first byte is a quote, a JSON line's commonest
 * byte after the letters of its text, and memchr stops every few bytes. From the
 * needle's least frequent letter (`ge"`: g is the rarest of u, s, a, g, e in
 * English and in code) memchr stops far less often; the bytes before it are
 * compared here.
 */
type Needle = { readonly bytes: Buffer; readonly anchor: number; readonly tail: Buffer };

// Commonest first: JSON's own bytes, then letters by their frequency in English
// text; any other byte is taken as rarer than all of these.
const COMMON_BYTES = Buffer.from(' "\n:,{}0123456789etaoinshrdlcumwfgypbvkjxqz', 'latin1');
const needles = new Map<string, Needle>();

function needleOf(text: string): Needle {
  let needle = needles.get(text);
  if (needle === undefined) {
    const bytes = Buffer.from(text, 'utf8');
    let anchor = 0;
    let rarest = -1;
    for (let index = 0; index < bytes.length; index += 1) {
      const rank = COMMON_BYTES.indexOf(bytes[index] as number);
      const rarity = rank < 0 ? COMMON_BYTES.length : rank;
      if (rarity > rarest) {
        rarest = rarity;
        anchor = index;
      }
    }
    needle = { bytes, anchor, tail: bytes.subarray(anchor) };
    needles.set(text, needle);
  }
  return needle;
}

/** Index of the first occurrence of the needle in buffer at or after `from`, or -1. */
function indexOfNeedle(buffer: Buffer, needle: Needle, from: number): number {
  const { bytes, anchor, tail } = needle;
  if (bytes.length === 0) return buffer.indexOf(bytes, from);
  let at = from + anchor;
  for (;;) {
    const hit = buffer.indexOf(tail, at);
    if (hit < 0) return -1;
    const start = hit - anchor;
    let index = 0;
    while (index < anchor && buffer[start + index] === bytes[index]) index += 1;
    if (index === anchor) return start;
    at = hit + 1;
  }
}

/** Only the lines of buffer[0, end] that contain `needle`, found in the bytes before decoding. */
function emitMatchingLines(readBuffer: Buffer, end: number, needle: Needle, lineNumber: number, onLine: LineBytes): number {
  // The searches stop at `end`: past it lie the bytes of earlier reads (megabytes of them after a short read).
  const buffer = readBuffer.subarray(0, end + 1);
  let number = lineNumber;
  let newline = -1; // the last newline counted in `number`
  for (;;) {
    const hit = indexOfNeedle(buffer, needle, newline + 1);
    if (hit < 0) break;
    // One walk over the newlines from the last counted to the hit's line end both counts the
    // lines between and finds where the hit's line starts and stops: a native call per
    // newline, and none more per hit (a needle holds no newline: a line cannot).
    let start = newline + 1;
    let stop = buffer.indexOf(10, start);
    while (stop < hit) {
      number += 1;
      start = stop + 1;
      stop = buffer.indexOf(10, start);
    }
    number += 1;
    const lineEnd = buffer[stop - 1] === 13 ? stop - 1 : stop;
    onLine(buffer, start, lineEnd, number);
    newline = stop;
  }
  return number + countNewlines(buffer, newline + 1, end + 1);
}

function countNewlines(buffer: Buffer, from: number, to: number): number {
  let count = 0;
  let index = buffer.indexOf(10, from);
  while (index >= 0 && index < to) {
    count += 1;
    index = buffer.indexOf(10, index + 1);
  }
  return count;
}
