import path from 'node:path';
import { formatModuleUrl, tokenTotal, type TokenVector, type TranscriptFile, type TranscriptFormat } from '@utt/agent-logs/line-format';
import { createLineFieldsReader } from './claude-code-line-fields';

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
  const lineReader = createLineFieldsReader();
  const fields = lineReader.fields;

  /** The rules, over the fields of one line; `bytes` are the line's when they were read from bytes. */
  function emitResponse(file: TranscriptFile, bytes: Buffer | undefined): void {
    if (!fields.response) return;
    if (fields.isApiErrorMessage === true) return;
    const model = typeof fields.model === 'string' ? fields.model : '';
    if (model === '<synthetic>') return;
    const timestampMs = fields.timestampMs;
    if (Number.isNaN(timestampMs)) throw new Error('timestamp: missing or not a date');
    const tokens = usageTokens(fields.input, fields.output, fields.cacheRead, fields.cacheWrite, fields.cacheSplit, fields.cache5m, fields.cache1h);
    const sessionId = typeof fields.sessionId === 'string' && fields.sessionId !== '' ? fields.sessionId : path.basename(file.path, '.jsonl');
    const messageId = typeof fields.messageId === 'string' && fields.messageId !== '' ? fields.messageId : undefined;
    const requestId = typeof fields.requestId === 'string' ? fields.requestId : '';
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
      key: messageId ?? lineKey(sessionId, lineReader.uuid(bytes), timestampMs, tokens),
      variant: requestId,
      loose: fields.isSidechain === true,
      rank: tokenTotal(tokens),
    });
  }

  function parseLineBytes(bytes: Buffer, start: number, end: number, file: TranscriptFile): void {
    // A line the walk cannot follow is parsed whole, so a bad line fails with JSON.parse's verdict.
    if (!lineReader.readBytes(bytes, start, end)) lineReader.readEntry(JSON.parse(bytes.toString('utf8', start, end)) as unknown);
    emitResponse(file, bytes);
  }

  return {
    accept: (file) => file.endsWith('.jsonl'),
    // A large scan re-creates this format on worker threads from the build's entry for it (dist/claude-code-format.js).
    workerModule: { url: formatModuleUrl(import.meta.url, './claude-code-format.js'), exportName: 'createClaudeCodeFormat' },
    layout: () => 'lines',
    // Most lines (user turns, tool results, summaries) have no usage: never decoded.
    lineMustContain: '"usage"',
    parseLine(line, file) {
      const bytes = Buffer.from(line, 'utf8');
      parseLineBytes(bytes, 0, bytes.length, file);
    },
    parseLineBytes,
  };
}

/** Without a message id a line is its own response, keyed so that re-reading it is idempotent. */
function lineKey(sessionId: string, uuid: unknown, timestampMs: number, tokens: TokenVector): string {
  return flat(`line:${sessionId}:${typeof uuid === 'string' ? uuid : `${timestampMs}:${tokens.join(',')}`}`);
}

/** Anthropic usage in core's semantics (input is already uncached; writes split 5m/1h when the log says). */
export function claudeUsageTokens(usage: Record<string, unknown>): TokenVector {
  const split = usage.cache_creation;
  const hasSplit = isObject(split);
  return usageTokens(
    usage.input_tokens,
    usage.output_tokens,
    usage.cache_read_input_tokens,
    usage.cache_creation_input_tokens,
    hasSplit,
    hasSplit ? split.ephemeral_5m_input_tokens : undefined,
    hasSplit ? split.ephemeral_1h_input_tokens : undefined,
  );
}

/** The counters of a usage object (and of its cache_creation split, when `hasSplit`), as JSON.parse gives them. */
function usageTokens(
  inputValue: unknown,
  outputValue: unknown,
  cacheReadValue: unknown,
  cacheWriteValue: unknown,
  hasSplit: boolean,
  fiveMinutesValue: unknown,
  oneHourValue: unknown,
): TokenVector {
  const input = count(inputValue, 'usage.input_tokens');
  const output = count(outputValue, 'usage.output_tokens');
  const cacheRead = count(cacheReadValue, 'usage.cache_read_input_tokens');
  let cacheWrite = count(cacheWriteValue, 'usage.cache_creation_input_tokens');
  let cacheWrite1h: number | null = null;
  if (hasSplit) {
    const fiveMinutes = count(fiveMinutesValue, 'usage.cache_creation.ephemeral_5m_input_tokens');
    const oneHour = count(oneHourValue, 'usage.cache_creation.ephemeral_1h_input_tokens');
    if (cacheWrite === null && (fiveMinutes !== null || oneHour !== null)) cacheWrite = (fiveMinutes ?? 0) + (oneHour ?? 0);
    if (oneHour !== null && cacheWrite !== null) cacheWrite1h = Math.min(oneHour, cacheWrite);
  }
  return [input, output, cacheRead, cacheWrite, cacheWrite1h, null, 1];
}

function count(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${field}: expected a whole number of tokens`);
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

const MAX_CACHED_LABELS = 10_000;

/** One labels object per project and session, so the ledger can key cells by identity. */
function labelsOf(project: string, session: string, cache: Map<string, Readonly<Record<string, string>>>): Readonly<Record<string, string>> {
  const key = `${project}\u0000${session}`;
  let labels = cache.get(key);
  if (!labels) {
    labels = { project: flat(project), session: flat(session) };
    // The format lives as long as the worker: a long-running one meets new sessions every day.
    if (cache.size >= MAX_CACHED_LABELS) cache.clear();
    cache.set(flat(key), labels);
  }
  return labels;
}

/** A flat copy of a string that may be built from (or sliced out of) others, so keeping it keeps nothing else. */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
