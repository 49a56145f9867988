import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TranscriptFile, UsageEvent } from '@utt/agent-logs';
import { describe, expect, it } from 'vitest';
import { createClaudeCodeFormat } from './claude-code-format';

/** What one line comes to: its events, or the reason the scan reports for it. */
type Outcome = { events: UsageEvent[] } | { reason: string };

/** The reason a scan reports for a thrown error (describeParseError's: never the line's text). */
const reasonOf = (error: unknown) => (error instanceof SyntaxError ? 'not valid JSON' : error instanceof Error ? error.message : String(error));

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The format's rules applied to the line as JSON.parse reads it whole: what
 * reading only the needed members straight from the bytes must agree with.
 */
function expectedOutcome(line: string, filePath: string): Outcome {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch (error) {
    return { reason: reasonOf(error) };
  }
  if (!isObject(entry)) return { reason: 'expected a JSON object' };
  const message = entry.message;
  if (!isObject(message) || !isObject(message.usage)) return { events: [] };
  if (entry.isApiErrorMessage === true) return { events: [] };
  const model = typeof message.model === 'string' ? message.model : '';
  if (model === '<synthetic>') return { events: [] };
  const timestampMs = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : Number.NaN;
  if (Number.isNaN(timestampMs)) return { reason: 'timestamp: missing or not a date' };
  const count = (value: unknown, field: string): number | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`${field}: expected a whole number of tokens`);
    return value;
  };
  const usage = message.usage;
  let tokens: UsageEvent['tokens'];
  try {
    const input = count(usage.input_tokens, 'usage.input_tokens');
    const output = count(usage.output_tokens, 'usage.output_tokens');
    const cacheRead = count(usage.cache_read_input_tokens, 'usage.cache_read_input_tokens');
    let cacheWrite = count(usage.cache_creation_input_tokens, 'usage.cache_creation_input_tokens');
    let cacheWrite1h: number | null = null;
    const split = usage.cache_creation;
    if (isObject(split)) {
      const fiveMinutes = count(split.ephemeral_5m_input_tokens, 'usage.cache_creation.ephemeral_5m_input_tokens');
      const oneHour = count(split.ephemeral_1h_input_tokens, 'usage.cache_creation.ephemeral_1h_input_tokens');
      if (cacheWrite === null && (fiveMinutes !== null || oneHour !== null)) cacheWrite = (fiveMinutes ?? 0) + (oneHour ?? 0);
      if (oneHour !== null && cacheWrite !== null) cacheWrite1h = Math.min(oneHour, cacheWrite);
    }
    tokens = [input, output, cacheRead, cacheWrite, cacheWrite1h, null, 1];
  } catch (error) {
    return { reason: reasonOf(error) };
  }
  const session = typeof entry.sessionId === 'string' && entry.sessionId !== '' ? entry.sessionId : path.basename(filePath, '.jsonl');
  const messageId = typeof message.id === 'string' && message.id !== '' ? message.id : undefined;
  const parts = filePath.split('/');
  return {
    events: [
      {
        timestampMs,
        model,
        labels: { project: parts[parts.lastIndexOf('projects') + 1] as string, session },
        tokens,
        key: messageId ?? `line:${session}:${typeof entry.uuid === 'string' ? entry.uuid : `${timestampMs}:${tokens.join(',')}`}`,
        variant: typeof entry.requestId === 'string' ? entry.requestId : '',
        loose: entry.isSidechain === true,
        rank: (tokens[0] ?? 0) + (tokens[1] ?? 0) + (tokens[2] ?? 0) + (tokens[3] ?? 0),
      },
    ],
  };
}

/**
 * The lines of one file through one format (its memory of the line before
 * carries over, as in a scan): from bytes, every line left in one buffer with
 * the others around it as the read buffer holds them, or from strings.
 */
function actualOutcomes(lines: readonly string[], filePath: string, from: 'bytes' | 'strings'): Outcome[] {
  const format = createClaudeCodeFormat();
  let events: UsageEvent[] = [];
  const file: TranscriptFile = { path: filePath, carry: undefined, emit: (event) => events.push(event) };
  const buffer = Buffer.from(`${lines.join('\n')}\n`);
  let start = 0;
  return lines.map((line) => {
    const end = start + Buffer.byteLength(line);
    events = [];
    let outcome: Outcome;
    try {
      if (from === 'bytes') format.parseLineBytes?.(buffer, start, end, file);
      else format.parseLine?.(line, file);
      outcome = { events };
    } catch (error) {
      outcome = { reason: reasonOf(error) };
    }
    start = end + 1;
    return outcome;
  });
}

function expectSameOutcomes(lines: readonly string[], filePath: string): void {
  const expected = lines.map((line) => expectedOutcome(line, filePath));
  const fromBytes = actualOutcomes(lines, filePath, 'bytes');
  const fromStrings = actualOutcomes(lines, filePath, 'strings');
  lines.forEach((line, index) => {
    expect({ line, outcome: fromBytes[index] }).toEqual({ line, outcome: expected[index] });
    expect({ line, outcome: fromStrings[index] }).toEqual({ line, outcome: expected[index] });
  });
}

/** A seeded generator (mulberry32), so every run checks the same lines. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    below: (count: number) => Math.floor(next() * count),
    chance: (probability: number) => next() < probability,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    shuffle: <T>(items: T[]): T[] => {
      for (let index = items.length - 1; index > 0; index -= 1) {
        const other = Math.floor(next() * (index + 1));
        [items[index], items[other]] = [items[other] as T, items[index] as T];
      }
      return items;
    },
  };
}
type Random = ReturnType<typeof createRandom>;

/** A JSON string as Claude Code writes it, or with some characters escaped (the same string, other bytes). */
function stringText(random: Random, text: string): string {
  const plain = JSON.stringify(text);
  if (!random.chance(0.2)) return plain;
  return plain.replace(/[a-z/é😀]/gu, (character) =>
    random.chance(0.5)
      ? character
      : character === '/'
        ? '\\/'
        : Array.from({ length: character.length }, (_, unit) => `\\u${character.charCodeAt(unit).toString(16).padStart(4, '0')}`).join(''),
  );
}

const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-6', 'claude-haiku-4-5', '<synthetic>', 'modèle-ü', '模型', ''];
const SESSIONS = ['055c54ae-0543-43c3-a148-c600652ef836', 'sess-a', 'séance 😀', ''];
const IDS = ['msg_0191ce012074d7730cdffab6', 'msg_01699bfa2c7ab23789a3f1fc', 'msg_é', 'msg_"quoted"\\', ''];
const REQUESTS = ['req_0114e38f23715aa54fab4cf9', 'req_2', 'réq', ''];
// Counters as written: plain digits, and everything JSON.parse must judge (including what it rejects).
const COUNTERS = ['0', '7', '139702', '9007199254740991', '12345678901234567', 'null', '1e2', '1E+2', '2.5', '-3', '-0', '"12"', 'true', '[1]', '{}', '012', '1.', '-', '+1', 'tru', 'nul'];
// Values that are not objects where an object is wanted (message, usage, cache_creation); the last three JSON.parse rejects.
const NOT_OBJECTS = ['null', '[]', '"x"', '5', 'tru', '"\\q"', '01'];
const VALID_COUNTERS = ['0', '7', '139702', '9007199254740991', '12345678901234567', 'null', '1e2', '2.5', '-3', '"12"', 'true'];
const TIMESTAMPS = [
  '"2026-03-01T10:15:00Z"',
  '"2026-03-01T10:15:00.000+01:00"',
  '"2026-02-30T00:00:00.000Z"',
  '"2026-01-01T24:00:00.000Z"',
  '"not a date"',
  '""',
  '5',
  'null',
  '"2026-03-01T10:15:00.000\\u005a"',
];
const LITERALS = ['true', 'false', 'null', '"true"', '1'];

function randomTimestamp(random: Random): string {
  if (random.chance(0.8)) {
    const at = Date.parse('2025-01-01T00:00:00.000Z') + random.below(3 * 366 * 86_400_000);
    return JSON.stringify(new Date(at).toISOString());
  }
  return random.pick(TIMESTAMPS);
}

/** A JSON object from members written as text, some spaced out, in the order given. */
function objectText(random: Random, members: ReadonlyArray<readonly [string, string]>): string {
  const space = () => random.pick(['', '', '', '', ' ', '\t', '\n', '\r\n  ']);
  return `{${space()}${members.map(([name, value]) => `${JSON.stringify(name)}${space()}:${space()}${value}${space()}`).join(`,${space()}`)}}`;
}

/** Content the walk must jump over: strings and objects that look like the members it wants. */
function contentText(random: Random): string {
  const blocks = Array.from({ length: 1 + random.below(3) }, () =>
    random.pick([
      { type: 'text', text: 'say "usage": {"input_tokens": 9} \\ ok' },
      { type: 'thinking', thinking: 'ünïcödé 😀 '.repeat(1 + random.below(40)), signature: 'abc' },
      { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { usage: { input_tokens: 7 }, model: 'fake', message: { usage: {} } } },
      { type: 'text', text: '}]"\\"' },
    ]),
  );
  return JSON.stringify(blocks);
}

/** A member list that may repeat a wanted member first with another valid value (JSON.parse takes the last). */
function withRepeats(random: Random, members: Array<readonly [string, string]>, others: Record<string, () => string>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const member of members) {
    const other = others[member[0]];
    if (other !== undefined && random.chance(0.05)) out.push([member[0], other()]);
    out.push(member);
  }
  return out;
}

function usageText(random: Random, counters: readonly string[], notObjects: readonly string[]): string {
  if (random.chance(0.05)) return random.pick(notObjects);
  const members: Array<readonly [string, string]> = [];
  for (const name of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens']) {
    if (random.chance(0.85)) members.push([name, random.chance(0.8) ? String(random.below(200_000)) : random.pick(counters)]);
  }
  if (random.chance(0.7)) {
    const split: Array<readonly [string, string]> = [];
    for (const name of ['ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens']) {
      if (random.chance(0.85)) split.push([name, random.chance(0.8) ? String(random.below(5000)) : random.pick(counters)]);
    }
    members.push(['cache_creation', random.chance(0.9) ? objectText(random, random.shuffle(split)) : random.pick(notObjects)]);
  }
  members.push(['service_tier', '"standard"'], ['server_tool_use', '{"web_search_requests":0,"usage":{"input_tokens":"x"}}']);
  return objectText(random, withRepeats(random, random.shuffle(members), { input_tokens: () => String(random.below(9)) }));
}

function messageText(random: Random, counters: readonly string[], notObjects: readonly string[]): string {
  if (random.chance(0.05)) return random.pick(notObjects);
  const members: Array<readonly [string, string]> = [
    ['type', '"message"'],
    ['role', '"assistant"'],
    ['content', contentText(random)],
    ['stop_reason', 'null'],
  ];
  if (random.chance(0.9)) members.push(['model', random.chance(0.95) ? stringText(random, random.pick(MODELS)) : '42']);
  if (random.chance(0.9)) members.push(['id', random.chance(0.95) ? stringText(random, random.pick(IDS)) : '7']);
  if (random.chance(0.93)) members.push(['usage', usageText(random, counters, notObjects)]);
  return objectText(random, withRepeats(random, random.shuffle(members), { usage: () => '{"input_tokens":1}', model: () => '"other"' }));
}

/** One transcript line; unless `valid`, values JSON.parse rejects may be written where they are always read. */
function lineText(random: Random, valid: boolean): string {
  const counters = valid ? VALID_COUNTERS : COUNTERS;
  const notObjects = valid ? NOT_OBJECTS.slice(0, 4) : NOT_OBJECTS;
  const top = (text: string, rejected: readonly string[]) => (!valid && random.chance(0.03) ? random.pick(rejected) : text);
  const members: Array<readonly [string, string]> = [
    ['parentUuid', '"af98fab4-43b5-48b3-ab11-2a445452d488"'],
    ['userType', '"external"'],
    ['cwd', stringText(random, '/Users/dév/src/project 😀')],
    ['version', '"2.1.63"'],
    ['type', '"assistant"'],
  ];
  if (random.chance(0.95)) members.push(['message', messageText(random, counters, notObjects)]);
  if (random.chance(0.95)) members.push(['timestamp', top(randomTimestamp(random), ['"x', '01', 'tru'])]);
  if (random.chance(0.9)) members.push(['sessionId', top(random.chance(0.95) ? stringText(random, random.pick(SESSIONS)) : '12', ['"\\q"', 'nul'])]);
  if (random.chance(0.9)) members.push(['requestId', top(random.chance(0.95) ? stringText(random, random.pick(REQUESTS)) : '3', ['"\\x"'])]);
  if (random.chance(0.8)) members.push(['uuid', top(random.chance(0.95) ? stringText(random, `u-${random.below(1000)}`) : '{}', ['"\\u12"', '-'])]);
  if (random.chance(0.8)) members.push(['isSidechain', top(random.pick(LITERALS), ['fals', 'True'])]);
  if (random.chance(0.2)) members.push(['isApiErrorMessage', top(random.pick(LITERALS), ['t'])]);
  if (random.chance(0.1)) members.push(['toolUseResult', '{"usage":{"input_tokens":999},"timestamp":"bad","message":{"usage":{}}}']);
  const repeats = { timestamp: randomTimestamp.bind(null, random), sessionId: () => '"earlier"', message: () => '{"usage":{"input_tokens":5},"model":"m"}', isSidechain: () => 'true' };
  return objectText(random, withRepeats(random, random.shuffle(members), repeats));
}

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'projects');

describe('claude-code format: reading lines from bytes', () => {
  it('reads the fixtures exactly as JSON.parse and the rules do', () => {
    for (const project of readdirSync(FIXTURES)) {
      for (const name of readdirSync(path.join(FIXTURES, project))) {
        const lines = readFileSync(path.join(FIXTURES, project, name), 'utf8').split('\n').filter((line) => line !== '');
        expectSameOutcomes(lines, `/home/u/.claude/projects/${project}/${name}`);
      }
    }
  });

  it('agrees on generated lines: reordered and repeated members, escapes, unicode, whitespace, missing fields, odd values', () => {
    const random = createRandom(7);
    for (let file = 0; file < 400; file += 1) {
      const lines = Array.from({ length: 1 + random.below(8) }, () => lineText(random, file % 2 === 0));
      expectSameOutcomes(lines, random.pick(['/x/projects/p/s1.jsonl', '/x/projects/q/s-2.jsonl']));
    }
  });

  it('agrees on lines the walk cannot follow: cut short, not an object, spaced before the object', () => {
    const random = createRandom(8);
    const lines: string[] = ['[]', '"text"', '5', 'null', '', ' {"message":{"usage":{}}}', '\t{}', '{}'];
    for (let index = 0; index < 200; index += 1) {
      const line = lineText(random, true);
      lines.push(line.slice(0, 1 + random.below(line.length - 1)));
      lines.push(` ${line}`);
    }
    expectSameOutcomes(lines, '/x/projects/p/s1.jsonl');
  });

  it('reads a reused buffer anew: what it remembers of the line before is a copy', () => {
    const events: UsageEvent[] = [];
    const file: TranscriptFile = { path: '/x/projects/p/s1.jsonl', carry: undefined, emit: (event) => events.push(event) };
    const format = createClaudeCodeFormat();
    const line = (model: string, session: string, id: string) =>
      `{"sessionId":"${session}","message":{"model":"${model}","id":"${id}","usage":{"input_tokens":1}},"requestId":"${id}","timestamp":"2026-03-01T10:15:00.000Z"}`;
    const buffer = Buffer.from(line('m1', 's1', 'msg_1'));
    format.parseLineBytes?.(buffer, 0, buffer.length, file);
    buffer.write(line('m2', 's2', 'msg_2'));
    format.parseLineBytes?.(buffer, 0, buffer.length, file);
    buffer.write(line('m2', 's2', 'msg_2'));
    format.parseLineBytes?.(buffer, 0, buffer.length, file);
    expect(events.map((event) => [event.model, event.labels.session, event.key, event.variant])).toEqual([
      ['m1', 's1', 'msg_1', 'msg_1'],
      ['m2', 's2', 'msg_2', 'msg_2'],
      ['m2', 's2', 'msg_2', 'msg_2'],
    ]);
  });
});
