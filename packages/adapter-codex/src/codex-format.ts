import path from 'node:path';
import { formatModuleUrl, tokenTotal, type TokenVector, type TranscriptFormat } from '@utt/agent-logs/line-format';

/** What Codex's rollout file has told us so far (kept with the file's cursor between cycles). */
export type CodexCarry = {
  model?: string;
  session?: string;
  cwd?: string;
  /** The last cumulative total_token_usage: [input, cached, output, reasoning, total]. */
  totals?: number[];
};

type CodexTokens = [input: number, cached: number, output: number, reasoning: number, total: number];

/**
 * Codex CLI rollout files (`rollout-*.jsonl`). Usage is in `event_msg`
 * lines of type `token_count`, whose `info.total_token_usage` is cumulative
 * for the session. Codex re-emits token_count with an unchanged total (rate
 * limit refreshes), so summing `last_token_usage` overcounts: this counts the
 * deltas of the total, skips unchanged totals, treats a drop as a restart
 * (that event's last_token_usage, else its whole total, is new usage), and
 * uses last_token_usage only when there are no totals.
 *
 * A fork or subagent file starts by copying its parent's events verbatim:
 * events are keyed by timestamp and cumulative total, and of two copies the
 * one with the smaller delta is kept (in the copy the first event's delta is
 * the whole history).
 */
export function createCodexFormat(): TranscriptFormat {
  return {
    accept: (file) => file.endsWith('.jsonl'),
    // A large scan re-creates this format on worker threads from the built module.
    workerModule: { url: formatModuleUrl(import.meta.url, './codex-format.js'), exportName: 'createCodexFormat' },
    layout: () => 'lines',
    parseLine(line, file) {
      const entry = JSON.parse(line) as unknown;
      if (!isObject(entry)) throw new Error('expected a JSON object');
      const payload = entry.payload;
      if (!isObject(payload)) return;
      const carry = (file.carry ??= {}) as CodexCarry;
      if (entry.type === 'session_meta') {
        if (typeof payload.id === 'string') carry.session = payload.id;
        if (typeof payload.cwd === 'string') carry.cwd = payload.cwd;
        return;
      }
      if (entry.type === 'turn_context') {
        if (typeof payload.model === 'string' && payload.model !== '') carry.model = payload.model;
        if (typeof payload.cwd === 'string') carry.cwd = payload.cwd;
        return;
      }
      if (entry.type !== 'event_msg' || payload.type !== 'token_count') return;
      const info = payload.info;
      if (!isObject(info)) return;
      const timestampMs = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : Number.NaN;
      if (Number.isNaN(timestampMs)) throw new Error('timestamp: missing or not a date');
      const total = readTokens(info.total_token_usage, 'info.total_token_usage');
      const last = readTokens(info.last_token_usage, 'info.last_token_usage');
      let delta: CodexTokens;
      let key: string;
      if (total) {
        const previous = carry.totals as CodexTokens | undefined;
        if (previous && total.every((value, index) => value === previous[index])) return;
        const dropped = previous !== undefined && total.some((value, index) => value < (previous[index] as number));
        carry.totals = total;
        if (dropped) delta = last ?? total;
        else delta = total.map((value, index) => value - (previous?.[index] ?? 0)) as CodexTokens;
        key = `${timestampMs}:${total.join(',')}`;
      } else if (last) {
        delta = last;
        key = `${timestampMs}:last:${last.join(',')}`;
      } else {
        return;
      }
      const tokens = toCoreTokens(delta);
      if (tokenTotal(tokens) === 0) return;
      const session = carry.session ?? path.basename(file.path, '.jsonl');
      file.emit({
        timestampMs,
        model: carry.model ?? '',
        labels: { project: carry.cwd ?? '', session },
        tokens,
        key,
        rank: -tokenTotal(tokens),
      });
    },
  };
}

/** Codex counts cached input inside input_tokens and reasoning inside output_tokens: split them for core. */
export function toCoreTokens([input, cached, output, reasoning]: CodexTokens | number[]): TokenVector {
  const cachedRead = Math.min(cached ?? 0, input ?? 0);
  return [(input ?? 0) - cachedRead, output ?? 0, cachedRead, null, null, Math.min(reasoning ?? 0, output ?? 0), 1];
}

function readTokens(value: unknown, where: string): CodexTokens | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new Error(`${where}: expected an object`);
  const field = (name: string) => {
    const number = value[name] ?? 0;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) throw new Error(`${where}.${name}: expected a whole number of tokens`);
    return number;
  };
  const input = field('input_tokens');
  const output = field('output_tokens');
  const total = value.total_tokens === undefined ? input + output : field('total_tokens');
  return [input, field('cached_input_tokens'), output, field('reasoning_output_tokens'), total];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
