import { createJsonMemberReader } from '@utt/agent-logs/line-format';
import { isoTimestampMs } from './iso-timestamp';

/**
 * Reads a Claude Code line's fields into one LineFields record (reused for
 * every line: no object per line), from the line's bytes or, for a line the
 * walk cannot follow, from what JSON.parse made of it; remembers the values
 * that repeat from line to line.
 */
export type LineFieldsReader = {
  readonly fields: LineFields;
  /** False when the walk cannot follow the line: it is then for JSON.parse and readEntry. */
  readBytes(bytes: Buffer, start: number, end: number): boolean;
  /** Throws for a line that is not a JSON object. */
  readEntry(entry: unknown): void;
  /** The uuid, decoded from the line's bytes (those just read) when it was left there. */
  uuid(bytes: Buffer | undefined): unknown;
};

export function createLineFieldsReader(): LineFieldsReader {
  const fields = emptyLineFields();
  const repeated: RepeatedStrings = {
    model: createRepeatedStringReader(),
    messageId: createRepeatedStringReader(),
    sessionId: createRepeatedStringReader(),
    requestId: createRepeatedStringReader(),
  };
  return {
    fields,
    readBytes: (bytes, start, end) => readLineFields(bytes, start, end, fields, repeated),
    readEntry: (entry) => readEntryFields(entry, fields),
    uuid: (bytes) => (fields.uuidStart === -1 || bytes === undefined ? fields.uuid : bytes.toString('utf8', fields.uuidStart, fields.uuidEnd)),
  };
}

/**
 * What the rules read of one line: each value as JSON.parse would give it
 * (undefined when absent), except that the message and its usage only say
 * whether they are objects. One record per format, refilled for every line.
 */
export type LineFields = {
  /** `message` is an object and so is its `usage`: the line reports a response. */
  response: boolean;
  model: unknown;
  messageId: unknown;
  input: unknown;
  output: unknown;
  cacheRead: unknown;
  cacheWrite: unknown;
  /** `usage.cache_creation` is an object: the 5-minute/1-hour split of cache writes. */
  cacheSplit: boolean;
  cache5m: unknown;
  cache1h: unknown;
  /** Date.parse of `timestamp`; NaN when it is missing or not a string. */
  timestampMs: number;
  sessionId: unknown;
  requestId: unknown;
  /** When uuidStart is not -1, a string without escapes at bytes[uuidStart, uuidEnd) of the line, decoded only if needed. */
  uuid: unknown;
  uuidStart: number;
  uuidEnd: number;
  isSidechain: unknown;
  isApiErrorMessage: unknown;
};

function emptyLineFields(): LineFields {
  return {
    response: false,
    model: undefined,
    messageId: undefined,
    input: undefined,
    output: undefined,
    cacheRead: undefined,
    cacheWrite: undefined,
    cacheSplit: false,
    cache5m: undefined,
    cache1h: undefined,
    timestampMs: Number.NaN,
    sessionId: undefined,
    requestId: undefined,
    uuid: undefined,
    uuidStart: -1,
    uuidEnd: -1,
    isSidechain: undefined,
    isApiErrorMessage: undefined,
  };
}

/** The fields of a line JSON.parse read whole. */
function readEntryFields(entry: unknown, fields: LineFields): void {
  if (!isObject(entry)) throw new Error('expected a JSON object');
  const message = isObject(entry.message) ? entry.message : undefined;
  const usage = message !== undefined && isObject(message.usage) ? message.usage : undefined;
  const split = usage !== undefined && isObject(usage.cache_creation) ? usage.cache_creation : undefined;
  fields.response = usage !== undefined;
  fields.model = message?.model;
  fields.messageId = message?.id;
  fields.input = usage?.input_tokens;
  fields.output = usage?.output_tokens;
  fields.cacheRead = usage?.cache_read_input_tokens;
  fields.cacheWrite = usage?.cache_creation_input_tokens;
  fields.cacheSplit = split !== undefined;
  fields.cache5m = split?.ephemeral_5m_input_tokens;
  fields.cache1h = split?.ephemeral_1h_input_tokens;
  fields.timestampMs = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : Number.NaN;
  fields.sessionId = entry.sessionId;
  fields.requestId = entry.requestId;
  fields.uuid = entry.uuid;
  fields.uuidStart = -1;
  fields.isSidechain = entry.isSidechain;
  fields.isApiErrorMessage = entry.isApiErrorMessage;
}

// One walk finds every member the scan needs, the usage counters included.
const LINE = createJsonMemberReader({
  message: {
    model: true,
    id: true,
    usage: {
      input_tokens: true,
      output_tokens: true,
      cache_read_input_tokens: true,
      cache_creation_input_tokens: true,
      cache_creation: { ephemeral_5m_input_tokens: true, ephemeral_1h_input_tokens: true },
    },
  },
  timestamp: true,
  sessionId: true,
  requestId: true,
  isSidechain: true,
  isApiErrorMessage: true,
  uuid: true,
});
const SLOT = {
  message: LINE.slot('message'),
  model: LINE.slot('message.model'),
  id: LINE.slot('message.id'),
  usage: LINE.slot('message.usage'),
  input: LINE.slot('message.usage.input_tokens'),
  output: LINE.slot('message.usage.output_tokens'),
  cacheRead: LINE.slot('message.usage.cache_read_input_tokens'),
  cacheWrite: LINE.slot('message.usage.cache_creation_input_tokens'),
  cacheSplit: LINE.slot('message.usage.cache_creation'),
  cache5m: LINE.slot('message.usage.cache_creation.ephemeral_5m_input_tokens'),
  cache1h: LINE.slot('message.usage.cache_creation.ephemeral_1h_input_tokens'),
  timestamp: LINE.slot('timestamp'),
  sessionId: LINE.slot('sessionId'),
  requestId: LINE.slot('requestId'),
  isSidechain: LINE.slot('isSidechain'),
  isApiErrorMessage: LINE.slot('isApiErrorMessage'),
  uuid: LINE.slot('uuid'),
} as const;

type RepeatedStrings = {
  readonly model: RepeatedStringReader;
  readonly messageId: RepeatedStringReader;
  readonly sessionId: RepeatedStringReader;
  readonly requestId: RepeatedStringReader;
};

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;

/**
 * The fields of a line read from its bytes, without decoding the message
 * content (most of a line) or building objects; false when the walk cannot
 * follow the line. Every member the rules may read is read here, before any
 * rule applies: a value that is not plain (escapes, a number that is not
 * plain digits, a literal that is not true/false) goes through JSON.parse, so
 * a bad one fails the line with JSON's verdict whatever the rules would have
 * made of the rest.
 */
function readLineFields(
  bytes: Buffer,
  start: number,
  end: number,
  fields: LineFields,
  repeated: RepeatedStrings,
): boolean {
  const found = LINE.read(bytes, start, end);
  if (found === undefined) return false;
  fields.response = false;
  fields.model = undefined;
  fields.messageId = undefined;
  fields.input = undefined;
  fields.output = undefined;
  fields.cacheRead = undefined;
  fields.cacheWrite = undefined;
  fields.cacheSplit = false;
  fields.cache5m = undefined;
  fields.cache1h = undefined;
  const message = found[SLOT.message * 2] as number;
  const usage = found[SLOT.usage * 2] as number;
  if (message !== -1 && bytes[message] !== OPEN_BRACE) {
    // Not an object, so no response; still read, to fail as JSON.parse would.
    parseSlice(bytes, message, found[SLOT.message * 2 + 1] as number);
  } else if (usage !== -1) {
    fields.model = repeated.model.read(bytes, found, SLOT.model);
    fields.messageId = repeated.messageId.read(bytes, found, SLOT.id);
    if (bytes[usage] !== OPEN_BRACE) {
      parseSlice(bytes, usage, found[SLOT.usage * 2 + 1] as number);
    } else {
      fields.response = true;
      fields.input = numberMember(bytes, found, SLOT.input);
      fields.output = numberMember(bytes, found, SLOT.output);
      fields.cacheRead = numberMember(bytes, found, SLOT.cacheRead);
      fields.cacheWrite = numberMember(bytes, found, SLOT.cacheWrite);
      const split = found[SLOT.cacheSplit * 2] as number;
      if (split !== -1 && bytes[split] !== OPEN_BRACE) {
        parseSlice(bytes, split, found[SLOT.cacheSplit * 2 + 1] as number);
      } else if (split !== -1) {
        fields.cacheSplit = true;
        fields.cache5m = numberMember(bytes, found, SLOT.cache5m);
        fields.cache1h = numberMember(bytes, found, SLOT.cache1h);
      }
    }
  }
  fields.timestampMs = timestampMember(bytes, found, SLOT.timestamp);
  fields.sessionId = repeated.sessionId.read(bytes, found, SLOT.sessionId);
  fields.requestId = repeated.requestId.read(bytes, found, SLOT.requestId);
  readUuid(bytes, found, SLOT.uuid, fields);
  fields.isSidechain = literalMember(bytes, found, SLOT.isSidechain);
  fields.isApiErrorMessage = literalMember(bytes, found, SLOT.isApiErrorMessage);
  return true;
}

/**
 * The uuid is only needed for a line without a message id: checked now (a
 * string without a backslash cannot fail to parse), decoded if it is needed.
 */
function readUuid(bytes: Buffer, found: Int32Array, slot: number, fields: LineFields): void {
  const start = found[slot * 2] as number;
  const end = found[slot * 2 + 1] as number;
  fields.uuidStart = -1;
  if (start !== -1 && bytes[start] === QUOTE) {
    let index = start + 1;
    while (index < end - 1 && bytes[index] !== BACKSLASH) index += 1;
    if (index === end - 1) {
      fields.uuid = undefined;
      fields.uuidStart = start + 1;
      fields.uuidEnd = end - 1;
      return;
    }
  }
  fields.uuid = stringMember(bytes, found, slot);
}

function parseSlice(bytes: Buffer, start: number, end: number): unknown {
  return JSON.parse(bytes.toString('utf8', start, end)) as unknown;
}

/** A member's value where a string is expected: decoded (a copy, so keeping it keeps no buffer), through JSON.parse when it has escapes or is not a string. */
function stringMember(bytes: Buffer, found: Int32Array, slot: number): unknown {
  const start = found[slot * 2] as number;
  if (start === -1) return undefined;
  const end = found[slot * 2 + 1] as number;
  if (bytes[start] !== QUOTE) return parseSlice(bytes, start, end);
  const text = bytes.toString('utf8', start + 1, end - 1);
  // Decoding first and looking for a backslash in the text beats a loop over the bytes.
  return text.includes('\\') ? parseSlice(bytes, start, end) : text;
}

/** A counter: plain digits (no sign, fraction, exponent or leading zero) read from the bytes, null, else JSON.parse's value or error. */
function numberMember(bytes: Buffer, found: Int32Array, slot: number): unknown {
  const start = found[slot * 2] as number;
  if (start === -1) return undefined;
  const end = found[slot * 2 + 1] as number;
  const length = end - start;
  if (length < 16 && (length === 1 || bytes[start] !== 48)) {
    let value = 0;
    let index = start;
    for (; index < end; index += 1) {
      const digit = (bytes[index] as number) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    if (index === end) return value;
  }
  if (length === 4 && bytes[start] === 110 && bytes[start + 1] === 117 && bytes[start + 2] === 108 && bytes[start + 3] === 108) return null;
  return parseSlice(bytes, start, end);
}

function literalMember(bytes: Buffer, found: Int32Array, slot: number): unknown {
  const start = found[slot * 2] as number;
  if (start === -1) return undefined;
  const end = found[slot * 2 + 1] as number;
  const length = end - start;
  if (length === 4 && bytes[start] === 116 && bytes[start + 1] === 114 && bytes[start + 2] === 117 && bytes[start + 3] === 101) return true;
  if (length === 5 && bytes[start] === 102 && bytes[start + 1] === 97 && bytes[start + 2] === 108 && bytes[start + 3] === 115 && bytes[start + 4] === 101) return false;
  return parseSlice(bytes, start, end);
}

/** Date.parse of a string member, straight from the bytes in Claude Code's own form; NaN when missing or not a string. */
function timestampMember(bytes: Buffer, found: Int32Array, slot: number): number {
  const start = found[slot * 2] as number;
  if (start === -1) return Number.NaN;
  const end = found[slot * 2 + 1] as number;
  if (bytes[start] === QUOTE) {
    const timestampMs = isoTimestampMs(bytes, start + 1, end - 1);
    if (!Number.isNaN(timestampMs)) return timestampMs;
  }
  const text = stringMember(bytes, found, slot);
  return typeof text === 'string' ? Date.parse(text) : Number.NaN;
}

type RepeatedStringReader = { read(bytes: Buffer, found: Int32Array, slot: number): unknown };

/**
 * stringMember for a member that often repeats from one line to the next
 * (the model and session nearly always; the message id and requestId on each
 * line of a response written one content block a line): while its bytes are
 * those read before, so is its value, and comparing bytes costs less than
 * decoding them. The bytes are copied: the read buffer is reused.
 */
function createRepeatedStringReader(): RepeatedStringReader {
  let previous = new Uint8Array(64);
  let previousLength = -1;
  let value: unknown;
  return {
    read(bytes, found, slot) {
      const start = found[slot * 2] as number;
      if (start === -1) return undefined;
      const end = found[slot * 2 + 1] as number;
      const length = end - start;
      if (length === previousLength) {
        let index = 0;
        while (index < length && bytes[start + index] === previous[index]) index += 1;
        if (index === length) return value;
      }
      value = stringMember(bytes, found, slot);
      if (length > previous.length) previous = new Uint8Array(length * 2);
      for (let index = 0; index < length; index += 1) previous[index] = bytes[start + index] as number;
      previousLength = length;
      return value;
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
