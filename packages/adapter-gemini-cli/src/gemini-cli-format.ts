import path from 'node:path';
import { formatModuleUrl, tokenTotal, type TokenVector, type TranscriptFile, type TranscriptFormat } from '@utt/agent-logs/line-format';

/**
 * Gemini CLI session recordings under `~/.gemini/tmp/<project hash>/`: JSON
 * documents `{ sessionId, messages: [...] }` rewritten as the session goes
 * (read whole when they change), or JSONL with one message per line.
 * Messages of `type: "gemini"` carry `model`, `timestamp` and `tokens`
 * (`input, output, cached, thoughts, tool, total`, or the aliases
 * `prompt, candidates, cached_tokens, thoughts_tokens, tool_tokens`). The
 * format is not documented: anything else is ignored, not guessed at.
 *
 * Semantics: `input` (the prompt) includes `cached`; `output` (candidates)
 * excludes `thoughts`; `tool` (tool-use prompt) is input on top of `input`.
 */
export function createGeminiCliFormat(): TranscriptFormat {
  return {
    accept: (file) => (file.endsWith('.json') || file.endsWith('.jsonl')) && !path.basename(file).startsWith('logs.'),
    // A large scan re-creates this format on worker threads from the built module.
    workerModule: { url: formatModuleUrl(import.meta.url, './gemini-cli-format.js'), exportName: 'createGeminiCliFormat' },
    layout: (file) => (file.endsWith('.jsonl') ? 'lines' : 'document'),
    parseDocument(text, file) {
      const document = JSON.parse(text) as unknown;
      if (!isObject(document) || !Array.isArray(document.messages)) return;
      const session = typeof document.sessionId === 'string' && document.sessionId !== '' ? document.sessionId : path.basename(file.path, '.json');
      emitEach(document.messages, (message, index) => emitMessage(message, { session, fallbackId: String(index) }, file));
    },
    parseLine(line, file) {
      const entry = JSON.parse(line) as unknown;
      if (!isObject(entry)) throw new Error('expected a JSON object');
      const carry = (file.carry ??= {}) as { session?: string; line?: number };
      carry.line = (carry.line ?? 0) + 1;
      if (typeof entry.sessionId === 'string' && entry.sessionId !== '') carry.session = entry.sessionId;
      const session = carry.session ?? path.basename(file.path, '.jsonl');
      emitMessage(entry, { session, fallbackId: `line${carry.line}` }, file);
      if (Array.isArray(entry.messages)) {
        const line = carry.line;
        emitEach(entry.messages, (message, index) => emitMessage(message, { session, fallbackId: `line${line}:${index}` }, file));
      }
    },
  };
}

/**
 * Emits every message of a recording, then throws for the first one that
 * could not be read, named by its place: one bad message is reported (the
 * recording's whole), and the messages after it still count.
 */
function emitEach(messages: readonly unknown[], emit: (message: unknown, index: number) => void): void {
  let failure: Error | undefined;
  messages.forEach((message, index) => {
    try {
      emit(message, index);
    } catch (error) {
      failure ??= new Error(`messages[${index}]: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (failure) throw failure;
}

function emitMessage(message: unknown, where: { session: string; fallbackId: string }, file: TranscriptFile): void {
  if (!isObject(message) || message.type !== 'gemini' || !isObject(message.tokens)) return;
  const timestampMs = typeof message.timestamp === 'string' ? Date.parse(message.timestamp) : Number.NaN;
  if (Number.isNaN(timestampMs)) throw new Error('timestamp: missing or not a date');
  const tokens = geminiUsageTokens(message.tokens);
  if (tokenTotal(tokens) === 0) return;
  const id = typeof message.id === 'string' && message.id !== '' ? message.id : where.fallbackId;
  file.emit({
    timestampMs,
    model: typeof message.model === 'string' ? message.model : '',
    labels: { project: path.basename(path.dirname(file.path)) === 'chats' ? path.basename(path.dirname(path.dirname(file.path))) : path.basename(path.dirname(file.path)), session: where.session },
    tokens,
    // A rewritten recording repeats earlier messages: one key per message.
    key: `${where.session}:${id}`,
    rank: tokenTotal(tokens),
  });
}

/** Gemini's counters in core's semantics: cached split out of input, thoughts inside output. */
export function geminiUsageTokens(tokens: Record<string, unknown>): TokenVector {
  const prompt = pick(tokens, ['input', 'prompt', 'input_tokens', 'prompt_tokens']);
  const candidates = pick(tokens, ['output', 'candidates', 'output_tokens', 'candidates_tokens']);
  const cached = pick(tokens, ['cached', 'cached_tokens', 'cache_read']);
  const thoughts = pick(tokens, ['thoughts', 'thoughts_tokens', 'reasoning']);
  const tool = pick(tokens, ['tool', 'tool_tokens']);
  const cachedRead = cached === null ? null : Math.min(cached, prompt ?? cached);
  const input = prompt === null && tool === null ? null : Math.max(0, (prompt ?? 0) - (cachedRead ?? 0)) + (tool ?? 0);
  const output = candidates === null && thoughts === null ? null : (candidates ?? 0) + (thoughts ?? 0);
  return [input, output, cachedRead, null, null, thoughts, 1];
}

function pick(tokens: Record<string, unknown>, names: readonly string[]): number | null {
  for (const name of names) {
    const value = tokens[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`tokens.${name}: expected a whole number of tokens`);
    return value;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
