/**
 * Which members of a JSON object to find: `true` for a member whose value is
 * wanted as written, an object for a member whose own members are wanted too
 * (its value's range is found as well).
 */
export type JsonMemberSpec = { readonly [member: string]: true | JsonMemberSpec };

/**
 * Finds the members of one JSON object in UTF-8 bytes without parsing the
 * values it does not need. A coding-agent transcript line is mostly content
 * (prompts, file bodies, thinking) the usage scan never looks at: JSON.parse
 * would build all of it, and even decoding it to a string costs more than
 * walking its bytes. The reader walks the object's structure once, jumping
 * over strings, descending only into the members the spec names, and records
 * where each wanted value starts and ends, so only those slices are read. It
 * does not validate what it skips: a line that is not JSON usually shows as an
 * unterminated value (undefined); what the caller takes from the slices is
 * validated there.
 */
export type JsonMemberReader = {
  /** Every wanted member as a dotted path (`message.usage`), in slot order. */
  readonly paths: readonly string[];
  /** The slot of a dotted path of the spec; throws for a path the spec does not name. */
  slot(path: string): number;
  /**
   * Walks the object that starts at `start` and must end by `end`. Member
   * `slot`'s value is `bytes.subarray(found[2 * slot], found[2 * slot + 1])`,
   * both -1 when the member is absent; undefined when the object is not well
   * formed. What follows the object's closing brace is not looked at. The
   * array is reused by the next call: read what you need first. Keys are
   * compared as written (not unescaped), so a spec name holds no quote or
   * backslash; a repeated key counts as JSON.parse counts it, the last one wins.
   */
  read(bytes: Uint8Array, start: number, end: number): Int32Array | undefined;
};

type Member = {
  /** The name's UTF-8 bytes, as little-endian 32-bit words then the 0-3 bytes left: compared four bytes at a time. */
  readonly length: number;
  readonly words: Int32Array;
  readonly tail: Uint8Array;
  readonly slot: number;
  readonly child?: ObjectSpec;
};
type ObjectSpec = {
  /** Members by the first byte of their name: most keys are rejected by one array lookup. */
  readonly byFirstByte: ReadonlyArray<readonly Member[] | undefined>;
  /** The slots of this object's members and of theirs: [first, end). */
  readonly firstSlot: number;
  readonly endSlot: number;
};

const encoder = new TextEncoder();

export function createJsonMemberReader(spec: JsonMemberSpec): JsonMemberReader {
  const paths: string[] = [];
  const root = compile(spec, paths, '');
  const found = new Int32Array(paths.length * 2);
  return {
    paths,
    slot(path) {
      const slot = paths.indexOf(path);
      if (slot < 0) throw new Error(`json member reader: "${path}" is not in the spec (${paths.join(', ')})`);
      return slot;
    },
    read(bytes, start, end) {
      found.fill(-1);
      // Buffer's indexOf (below) is the fastest way over long strings; a plain Uint8Array is viewed as one.
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (!(start < end && buffer[start] === OPEN_BRACE)) return undefined;
      return scanObject(buffer, wordsOf(buffer), start, end, root, found) < 0 ? undefined : found;
    },
  };
}

function compile(spec: JsonMemberSpec, paths: string[], prefix: string): ObjectSpec {
  const byFirstByte: Array<Member[] | undefined> = Array.from({ length: 256 }, () => undefined);
  const firstSlot = paths.length;
  for (const [text, value] of Object.entries(spec)) {
    if (/["\\]/.test(text)) throw new Error(`json member reader: "${text}" would be matched as written; a name cannot hold a quote or backslash`);
    const slot = paths.length;
    paths.push(prefix + text);
    const name = encoder.encode(text);
    const wordCount = name.length >> 2;
    const nameView = new DataView(name.buffer, name.byteOffset, name.byteLength);
    const words = Int32Array.from({ length: wordCount }, (_, word) => nameView.getInt32(word * 4, true));
    const tail = name.slice(wordCount * 4);
    const member: Member =
      value === true ? { length: name.length, words, tail, slot } : { length: name.length, words, tail, slot, child: compile(value, paths, `${prefix}${text}.`) };
    // An empty name is the key whose first byte is its closing quote.
    (byFirstByte[name.length === 0 ? QUOTE : (name[0] as number)] ??= []).push(member);
  }
  return { byFirstByte, firstSlot, endSlot: paths.length };
}

/** A buffer's bytes as a DataView, for comparing names four bytes at a time. */
type Words = { readonly view: DataView; readonly offset: number };

// Keyed weakly by the memory they view, so that a view never keeps a read
// buffer alive. Not a WeakRef: V8 keeps whatever a WeakRef was made for or
// read from until the current job ends, and a worker thread's whole scan is
// one job (its awaits resolve at once), which kept every file's buffer alive.
const views = new WeakMap<ArrayBufferLike, DataView>();

/** The read buffer is the same for every line of a file: its view is made once. */
function wordsOf(buffer: Buffer): Words {
  let view = views.get(buffer.buffer);
  if (view === undefined) {
    view = new DataView(buffer.buffer);
    views.set(buffer.buffer, view);
  }
  return { view, offset: buffer.byteOffset };
}

const TAB = 9;
const NEWLINE = 10;
const RETURN = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Index just after the object at `start` (an opening brace, before `end`), or -1; wanted members go to `found`. */
function scanObject(bytes: Buffer, words: Words, start: number, end: number, spec: ObjectSpec, found: Int32Array): number {
  let index = start + 1;
  for (;;) {
    if (index >= end) return -1;
    let code = bytes[index] as number;
    if (code <= SPACE) {
      index = skipWhitespace(bytes, index, end);
      if (index >= end) return -1;
      code = bytes[index] as number;
    }
    if (code === CLOSE_BRACE) return index + 1;
    if (code === COMMA) {
      index += 1;
      continue;
    }
    if (code !== QUOTE) return -1;
    // A wanted key is recognised where it starts, its closing quote included: no search for the quote.
    let member: Member | undefined;
    let keyEnd = -1;
    const candidates = spec.byFirstByte[bytes[index + 1] as number];
    if (candidates !== undefined) {
      for (const candidate of candidates) {
        const close = index + 1 + candidate.length;
        if (close < end && bytes[close] === QUOTE && isNamed(bytes, words, index + 1, candidate)) {
          member = candidate;
          keyEnd = close;
          break;
        }
      }
    }
    if (keyEnd < 0) {
      keyEnd = keyEndAt(bytes, index, end);
      if (keyEnd < 0) return -1;
    }
    index = keyEnd + 1;
    if (index < end && bytes[index] !== COLON) index = skipWhitespace(bytes, index, end);
    if (index >= end || bytes[index] !== COLON) return -1;
    index += 1;
    if (index >= end) return -1;
    code = bytes[index] as number;
    if (code <= SPACE) {
      index = skipWhitespace(bytes, index, end);
      if (index >= end) return -1;
      code = bytes[index] as number;
    }
    const valueStart = index;
    let valueEnd: number;
    if (member?.child !== undefined) {
      // A repeated key replaces the earlier value, members included.
      found.fill(-1, member.child.firstSlot * 2, member.child.endSlot * 2);
      valueEnd = code === OPEN_BRACE ? scanObject(bytes, words, valueStart, end, member.child, found) : valueEndAt(bytes, valueStart, end, code);
    } else {
      valueEnd = valueEndAt(bytes, valueStart, end, code);
    }
    if (valueEnd < 0) return -1;
    if (member !== undefined) {
      found[member.slot * 2] = valueStart;
      found[member.slot * 2 + 1] = valueEnd;
    }
    index = valueEnd;
  }
}

/** Whether bytes[at, at + member.length) spell the member's name (the caller has checked they lie before the end). */
function isNamed(bytes: Buffer, words: Words, at: number, member: Member): boolean {
  const nameWords = member.words;
  const offset = words.offset + at;
  for (let word = 0; word < nameWords.length; word += 1) {
    if (words.view.getInt32(offset + word * 4, true) !== nameWords[word]) return false;
  }
  const tail = member.tail;
  const tailAt = at + nameWords.length * 4;
  for (let byte = 0; byte < tail.length; byte += 1) {
    if (bytes[tailAt + byte] !== tail[byte]) return false;
  }
  return true;
}

function skipWhitespace(bytes: Buffer, start: number, end: number): number {
  let index = start;
  while (index < end) {
    const code = bytes[index] as number;
    if (code !== SPACE && code !== NEWLINE && code !== RETURN && code !== TAB) break;
    index += 1;
  }
  return index;
}

/** Index just after the JSON value starting at `start` (whose first byte is `code`), or -1. */
function valueEndAt(bytes: Buffer, start: number, end: number, code: number): number {
  if (code === QUOTE) {
    const close = stringEnd(bytes, start, end);
    return close < 0 ? -1 : close + 1;
  }
  if (code === OPEN_BRACE || code === OPEN_BRACKET) {
    let depth = 0;
    let index = start;
    while (index < end) {
      const current = bytes[index] as number;
      if (current === QUOTE) {
        const close = stringEnd(bytes, index, end);
        if (close < 0) return -1;
        index = close + 1;
        continue;
      }
      if (current === OPEN_BRACE || current === OPEN_BRACKET) depth += 1;
      else if ((current === CLOSE_BRACE || current === CLOSE_BRACKET) && --depth === 0) return index + 1;
      index += 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let index = start;
  while (index < end) {
    const current = bytes[index] as number;
    if (current === COMMA || current === CLOSE_BRACE || current === CLOSE_BRACKET || current === SPACE || current === NEWLINE || current === RETURN || current === TAB) break;
    index += 1;
  }
  return index === start ? -1 : index;
}

/**
 * stringEnd for a key: keys are short, and over a few bytes a loop costs less
 * than a call to indexOf.
 */
function keyEndAt(bytes: Buffer, start: number, end: number): number {
  for (let index = start + 1; index < end; index += 1) {
    const code = bytes[index] as number;
    if (code === QUOTE) return index;
    if (code === BACKSLASH) return stringEnd(bytes, start, end);
  }
  return -1;
}

/**
 * Index of the closing quote of the string opening at `start`, or -1 when it
 * does not close before `end`. Most of a line's bytes are in strings (text,
 * thinking, tool input): Buffer#indexOf jumps to the next quote in native
 * code, which measured faster than a JavaScript loop over the bytes (one byte
 * at a time, or four through a DataView), and an escaped quote is told by the
 * backslashes before it.
 */
function stringEnd(bytes: Buffer, start: number, end: number): number {
  let index = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, index);
    if (quote < 0 || quote >= end) return -1;
    // Nearly every quote is unescaped: one comparison decides it.
    if (bytes[quote - 1] !== BACKSLASH) return quote;
    let backslashes = 1;
    for (let back = quote - 2; bytes[back] === BACKSLASH; back -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    index = quote + 1;
  }
}
