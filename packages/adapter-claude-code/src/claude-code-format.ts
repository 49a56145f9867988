import path from 'node:path';
import { findJsonMembers, tokenTotal, type TokenVector, type TranscriptFile, type TranscriptFormat } from '@utt/agent-logs';

/**
 * Claude Code's JSONL transcripts. Only lines whose `message` carries
 * `usage` count; the rules that keep totals honest:
 * - one response is written as several lines (one per content block), each
 *   repeating the usage, the early ones with a partial output count: copies
 *   share message.id + requestId and the larger total is kept;
 * - resumed sessions replay earlier lines: same key, one copy counted;
 * - sidechains (`/btw`, subagents) replay their parent's messages, sometimes
 *   under a new requestId: a sidechain copy matches by message.id alone and
 *   loses to the non-sidechain one;
 * - synthetic rows (model `<synthetic>`) and API error rows are not usage.
 */
export function createClaudeCodeFormat(): TranscriptFormat {
  const projects = new Map<string, string>();
  const labels = new Map<string, Readonly<Record<string, string>>>();
  // Consecutive lines nearly always share the file and the session: remember the last answer.
  let lastPath = '';
  let lastProject = '';
  let lastSession = '';
  let lastLabels: Readonly<Record<string, string>> | undefined;
  return {
    accept: (file) => file.endsWith('.jsonl'),
    // A large scan re-creates this format on worker threads from the built module.
    workerModule: { url: import.meta.url, exportName: 'createClaudeCodeFormat' },
    layout: () => 'lines',
    // Most lines (user turns, tool results, summaries) have no usage: never decoded.
    lineMustContain: '"usage"',
    parseLine(line, file) {
      const entry = readEntry(line);
      const message = entry.message;
      if (!isObject(message) || !isObject(message.usage)) return;
      if (entry.isApiErrorMessage === true) return;
      const model = typeof message.model === 'string' ? message.model : '';
      if (model === '<synthetic>') return;
      const timestampMs = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : Number.NaN;
      if (Number.isNaN(timestampMs)) throw new Error('timestamp: missing or not a date');
      const tokens = claudeUsageTokens(message.usage);
      const sessionId = typeof entry.sessionId === 'string' && entry.sessionId !== '' ? entry.sessionId : path.basename(file.path, '.jsonl');
      const messageId = typeof message.id === 'string' && message.id !== '' ? message.id : undefined;
      const requestId = typeof entry.requestId === 'string' ? entry.requestId : '';
      if (file.path !== lastPath) {
        lastPath = file.path;
        lastProject = projectOf(file, projects);
        lastLabels = undefined;
      }
      if (lastLabels === undefined || sessionId !== lastSession) {
        lastLabels = labelsOf(lastProject, sessionId, labels);
        lastSession = sessionId;
      }
      file.emit({
        timestampMs,
        model,
        labels: lastLabels,
        tokens,
        // Without a message id a line is its own response (keyed so that re-reading it is idempotent).
        key: messageId ?? flat(`line:${sessionId}:${typeof entry.uuid === 'string' ? entry.uuid : `${timestampMs}:${tokens.join(',')}`}`),
        variant: requestId,
        loose: entry.isSidechain === true,
        rank: tokenTotal(tokens),
      });
    },
  };
}

const TOP_MEMBERS = new Set(['message', 'timestamp', 'sessionId', 'requestId', 'isSidechain', 'isApiErrorMessage', 'uuid']);
const MESSAGE = { member: 'message', wanted: new Set(['model', 'id', 'usage']) };

type Range = [number, number];

/**
 * The members the scan needs, read without building the message content
 * (most of a line's bytes). Only the values kept in state (ids) and the usage
 * object go through JSON.parse; any line whose structure the quick walk
 * cannot follow is parsed whole, so a bad line still fails with JSON.parse's
 * verdict.
 */
function readEntry(line: string): Record<string, unknown> {
  const found = findJsonMembers(line, 0, TOP_MEMBERS, MESSAGE);
  if (!found) {
    const entry = JSON.parse(line) as unknown;
    if (!isObject(entry)) throw new Error('expected a JSON object');
    return entry;
  }
  const message = found.get('message');
  const usage = found.get('message.usage');
  return {
    message: message === undefined ? undefined : line.charCodeAt(message[0]) !== 123 ? parseSlice(line, message) : usage === undefined ? {} : {
      model: stringSlice(line, found.get('message.model')),
      // A slice is enough: the ledger keeps only a hash of the id, not the id (which would keep the line alive).
      id: stringSlice(line, found.get('message.id')),
      usage: usageAt(line, usage),
    },
    timestamp: stringSlice(line, found.get('timestamp')),
    sessionId: stringSlice(line, found.get('sessionId')),
    requestId: stringSlice(line, found.get('requestId')),
    uuid: stringSlice(line, found.get('uuid')),
    isSidechain: literal(line, found.get('isSidechain')),
    isApiErrorMessage: literal(line, found.get('isApiErrorMessage')),
  };
}

const USAGE_MEMBERS = new Set(['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'cache_creation']);
const CACHE_CREATION = { member: 'cache_creation', wanted: new Set(['ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens']) };

/**
 * The usage object's counters without building the object: one walk over
 * it, and the numbers read from their digits. Anything but plain digits or
 * null (and any object the walk cannot follow) goes through JSON.parse, so
 * its verdict and value are JSON's.
 */
function usageAt(line: string, range: Range): unknown {
  if (line.charCodeAt(range[0]) !== 123) return parseSlice(line, range);
  const found = findJsonMembers(line, range[0], USAGE_MEMBERS, CACHE_CREATION);
  if (!found) return parseSlice(line, range);
  const usage: Record<string, unknown> = {
    input_tokens: numberAt(line, found.get('input_tokens')),
    output_tokens: numberAt(line, found.get('output_tokens')),
    cache_read_input_tokens: numberAt(line, found.get('cache_read_input_tokens')),
    cache_creation_input_tokens: numberAt(line, found.get('cache_creation_input_tokens')),
  };
  const split = found.get('cache_creation');
  if (split !== undefined) {
    usage.cache_creation =
      line.charCodeAt(split[0]) === 123
        ? {
            ephemeral_5m_input_tokens: numberAt(line, found.get('cache_creation.ephemeral_5m_input_tokens')),
            ephemeral_1h_input_tokens: numberAt(line, found.get('cache_creation.ephemeral_1h_input_tokens')),
          }
        : parseSlice(line, split);
  }
  return usage;
}

/** A JSON number written as plain digits (no sign, fraction, exponent or leading zero), else JSON.parse's value or error. */
function numberAt(line: string, range: Range | undefined): unknown {
  if (range === undefined) return undefined;
  const [start, end] = range;
  const length = end - start;
  if (length > 0 && length < 16 && (length === 1 || line.charCodeAt(start) !== 48)) {
    let value = 0;
    let index = start;
    for (; index < end; index += 1) {
      const digit = line.charCodeAt(index) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    if (index === end) return value;
  }
  if (length === 4 && line.startsWith('null', start)) return null;
  return parseSlice(line, range);
}

function parseSlice(line: string, range: Range | undefined): unknown {
  return range === undefined ? undefined : (JSON.parse(line.slice(range[0], range[1])) as unknown);
}

/** A string value used only for the moment (lookups, dates): sliced when it has no escapes. */
function stringSlice(line: string, range: Range | undefined): unknown {
  if (range === undefined) return undefined;
  if (line.charCodeAt(range[0]) === 34) {
    const inner = line.slice(range[0] + 1, range[1] - 1);
    if (!inner.includes('\\')) return inner;
  }
  return parseSlice(line, range);
}

function literal(line: string, range: Range | undefined): unknown {
  if (range === undefined) return undefined;
  const length = range[1] - range[0];
  if (length === 4 && line.startsWith('true', range[0])) return true;
  if (length === 5 && line.startsWith('false', range[0])) return false;
  return parseSlice(line, range);
}

/** Anthropic usage in core's semantics (input is already uncached; writes split 5m/1h when the log says). */
export function claudeUsageTokens(usage: Record<string, unknown>): TokenVector {
  const input = count(usage, 'input_tokens');
  const output = count(usage, 'output_tokens');
  const cacheRead = count(usage, 'cache_read_input_tokens');
  let cacheWrite = count(usage, 'cache_creation_input_tokens');
  let cacheWrite1h: number | null = null;
  const split = usage.cache_creation;
  if (isObject(split)) {
    const fiveMinutes = count(split, 'ephemeral_5m_input_tokens', 'usage.cache_creation');
    const oneHour = count(split, 'ephemeral_1h_input_tokens', 'usage.cache_creation');
    if (cacheWrite === null && (fiveMinutes !== null || oneHour !== null)) cacheWrite = (fiveMinutes ?? 0) + (oneHour ?? 0);
    if (oneHour !== null && cacheWrite !== null) cacheWrite1h = Math.min(oneHour, cacheWrite);
  }
  return [input, output, cacheRead, cacheWrite, cacheWrite1h, null, 1];
}

function count(object: Record<string, unknown>, field: string, parent = 'usage'): number | null {
  const value = object[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${parent}.${field}: expected a whole number of tokens`);
  }
  return value;
}

/**
 * The project directory Claude Code files the transcript under (the cwd with
 * `/` turned into `-`), as ccusage groups by it: the first folder below
 * `projects/`, else the file's parent folder.
 */
function projectOf(file: TranscriptFile, cache: Map<string, string>): string {
  const dir = path.dirname(file.path);
  let project = cache.get(dir);
  if (project !== undefined) return project;
  const parts = dir.split(path.sep);
  const at = parts.lastIndexOf('projects');
  project = at >= 0 && at + 1 < parts.length ? (parts[at + 1] as string) : path.basename(dir);
  cache.set(dir, project);
  return project;
}

/** One labels object per project and session, so the ledger can key cells by identity. */
function labelsOf(project: string, session: string, cache: Map<string, Readonly<Record<string, string>>>): Readonly<Record<string, string>> {
  const key = `${project}\u0000${session}`;
  let labels = cache.get(key);
  if (!labels) {
    labels = { project: flat(project), session: flat(session) };
    cache.set(flat(key), labels);
  }
  return labels;
}

/** A copy of a string that may be a slice of a transcript line, so keeping it does not keep the line. */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
