import { appendFileSync, cpSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryState } from '@utt/agent-logs';
import { collectAll, createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import type { UsageAdapterV1State, UsageRecordInput } from '@utt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claudeCodeAdapter } from './claude-code-adapter';
import { claudeCodeConfigSchema } from './claude-code-config';
import { claudeCodeRoots } from './claude-code-paths';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const PROJECT = '-Users-tom-src-app';
const WINDOW = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-02T00:00:00Z'), granularity: 'hour' as const };

describeUsageAdapterConformance({
  adapter: claudeCodeAdapter,
  config: { paths: [path.join(FIXTURES, 'projects')], instance: 'tom@laptop' },
  window: WINDOW,
  // Claude Code's input_tokens excludes cache reads and writes (the API's convention): copied as is.
  expected: {
    response: '__fixtures__/projects (msg_1 in three copies and a replay, msg_2 replayed by a sidechain)',
    records: [
      {
        bucket_start: '2026-03-01T10:00:00Z',
        model: 'claude-opus-4-6',
        labels: { session: 'sess-a' },
        input_tokens: 13,
        output_tokens: 160,
        cached_read_tokens: 11_000,
        cached_write_tokens: 1_000,
        cached_write_1h_tokens: 800,
        requests: 2,
      },
    ],
  },
});

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'utt-claude-'));
  cpSync(path.join(FIXTURES, 'projects'), path.join(home, '.claude', 'projects'), { recursive: true });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function context(state?: UsageAdapterV1State, config: Record<string, unknown> = {}) {
  const base = createTestContext({
    config: claudeCodeConfigSchema.parse({ instance: 'tom@laptop', ...config }),
    env: { HOME: home },
    now: new Date('2026-03-01T13:00:00Z'),
  });
  return Object.assign(base, { state });
}

const file = (name: string) => path.join(home, '.claude', 'projects', PROJECT, name);

function line(fields: { id: string; req: string; at: string; model: string; session: string; usage: Record<string, unknown>; sidechain?: boolean }) {
  return `${JSON.stringify({
    isSidechain: fields.sidechain ?? false,
    sessionId: fields.session,
    type: 'assistant',
    message: { model: fields.model, id: fields.id, type: 'message', role: 'assistant', content: [], usage: fields.usage },
    requestId: fields.req,
    timestamp: fields.at,
  })}\n`;
}

function row(records: readonly UsageRecordInput[], hour: string, model: string, session: string) {
  return records.find(
    (record) => (record.bucket_start as Date).toISOString() === hour && record.model === model && record.labels?.session === session,
  );
}

const counters = (record: UsageRecordInput | undefined) =>
  record && [
    record.input_tokens,
    record.output_tokens,
    record.cached_read_tokens,
    record.cached_write_tokens,
    record.cached_write_1h_tokens,
    record.reasoning_tokens,
    record.requests,
  ];

describe('claude-code: paths', () => {
  it("resolves a relative path against the config file's folder, not the working directory", async () => {
    const test = Object.assign(context(undefined, { paths: ['.claude/projects'] }), { configDirectory: home });
    const records = await collectAll(claudeCodeAdapter, WINDOW, test);
    expect(records).toHaveLength(3);
    expect(await claudeCodeAdapter.check?.(test)).toEqual({ ok: true, detail: `reads ${path.join(home, '.claude', 'projects')}` });
  });
});

describe('claude-code: the known inflation and loss cases', () => {
  it('counts each response once: partial output copies, resumed replays, /btw sidechain replays; skips synthetic and error rows', async () => {
    const test = context();
    const records = await collectAll(claudeCodeAdapter, WINDOW, test);
    // [input, output, cache read, cache write, of which 1h, reasoning, requests]
    // msg_1 (three copies, outputs 1, 1, 120, replayed again in sess-b) + msg_2 (replayed by the /btw sidechain).
    expect(counters(row(records, '2026-03-01T10:00:00.000Z', 'claude-opus-4-6', 'sess-a'))).toEqual([13, 160, 11000, 1000, 800, null, 2]);
    // The sidechain's own answer counts; its copy of msg_2 does not (no opus row for sess-c).
    expect(counters(row(records, '2026-03-01T10:00:00.000Z', 'claude-haiku-4-5', 'sess-c'))).toEqual([8, 30, null, null, null, null, 1]);
    expect(row(records, '2026-03-01T10:00:00.000Z', 'claude-opus-4-6', 'sess-c')).toBeUndefined();
    // No 5m/1h split in the log: the 1h part is unknown.
    expect(counters(row(records, '2026-03-01T11:00:00.000Z', 'claude-sonnet-4-5', 'sess-b'))).toEqual([5, 50, 100, 20, null, null, 1]);
    expect(records).toHaveLength(3);
    expect(records.every((record) => record.source_instance === 'tom@laptop' && record.provider === 'anthropic')).toBe(true);
    expect(row(records, '2026-03-01T10:00:00.000Z', 'claude-opus-4-6', 'sess-a')?.labels).toEqual({ project: PROJECT, session: 'sess-a' });
    expect(records.every((record) => record.measurement_basis === 'exact' && record.cost_usd === undefined)).toBe(true);
  });

  it('counts a malformed line with its file and line, and leaves a half-written last line for the next cycle', async () => {
    const test = context();
    await collectAll(claudeCodeAdapter, WINDOW, test);
    const warning = test.logs.find((entry) => entry.message.includes('unreadable transcript line'));
    expect(warning?.message).toContain('1 unreadable transcript line skipped');
    expect(JSON.stringify(warning?.fields)).toContain(`${file('sess-b.jsonl')}:3: not valid JSON`);
  });

  it('labels subscription machines and drops the session label when asked', async () => {
    const records = await collectAll(claudeCodeAdapter, WINDOW, context(undefined, { billing: 'subscription', sessionLabel: false, labels: { team: 'core' } }));
    const opus = records.find((record) => record.model === 'claude-opus-4-6');
    expect(opus?.labels).toEqual({ team: 'core', billing: 'subscription', project: PROJECT });
  });
});

describe('claude-code: incremental cycles through the durable state', () => {
  it('returns only the touched hours, recomputed exactly, and survives truncation', async () => {
    const state = createMemoryState();
    const first = await collectAll(claudeCodeAdapter, WINDOW, context(state));
    expect(first).toHaveLength(3);

    // Nothing appended: nothing to write.
    expect(await collectAll(claudeCodeAdapter, WINDOW, context(state))).toEqual([]);

    // The half-written line (it ends in `"userType":"external",`) is completed, and a new hour starts in sess-a.
    appendFileSync(file('sess-b.jsonl'), line({ id: 'msg_5', req: 'req_5', at: '2026-03-01T11:20:00.000Z', model: 'claude-sonnet-4-5', session: 'sess-b', usage: { input_tokens: 1, output_tokens: 9 } }).slice(1));
    appendFileSync(file('sess-a.jsonl'), line({ id: 'msg_6', req: 'req_6', at: '2026-03-01T12:00:00.000Z', model: 'claude-opus-4-6', session: 'sess-a', usage: { input_tokens: 2, output_tokens: 3 } }));
    const second = await collectAll(claudeCodeAdapter, WINDOW, context(state));
    expect(second).toHaveLength(2);
    expect(counters(row(second, '2026-03-01T11:00:00.000Z', 'claude-sonnet-4-5', 'sess-b'))).toEqual([6, 59, 100, 20, null, null, 2]);
    expect(counters(row(second, '2026-03-01T12:00:00.000Z', 'claude-opus-4-6', 'sess-a'))).toEqual([2, 3, null, null, null, null, 1]);

    // The /btw file is truncated and rewritten: re-read from the start, its old lines not counted twice.
    truncateSync(file('0-btw.jsonl'), 0);
    writeFileSync(
      file('0-btw.jsonl'),
      line({ id: 'msg_4', req: 'req_4', at: '2026-03-01T10:31:00.000Z', model: 'claude-haiku-4-5', session: 'sess-c', sidechain: true, usage: { input_tokens: 8, output_tokens: 30 } }) +
        line({ id: 'msg_7', req: 'req_7', at: '2026-03-01T10:45:00.000Z', model: 'claude-haiku-4-5', session: 'sess-c', usage: { input_tokens: 1, output_tokens: 1 } }),
    );
    const third = await collectAll(claudeCodeAdapter, WINDOW, context(state));
    expect(third).toHaveLength(2);
    expect(counters(row(third, '2026-03-01T10:00:00.000Z', 'claude-haiku-4-5', 'sess-c'))).toEqual([9, 31, null, null, null, null, 2]);
    expect(counters(row(third, '2026-03-01T10:00:00.000Z', 'claude-opus-4-6', 'sess-a'))).toEqual([13, 160, 11000, 1000, 800, null, 2]);
  });

  it('clears a row whose only copy is beaten by a better copy in a later cycle', async () => {
    const state = createMemoryState();
    await collectAll(claudeCodeAdapter, WINDOW, context(state));
    // The non-sidechain parent of msg_4 turns up in another session: it wins over the sidechain copy.
    writeFileSync(file('sess-d.jsonl'), line({ id: 'msg_4', req: 'req_4', at: '2026-03-01T10:31:00.000Z', model: 'claude-haiku-4-5', session: 'sess-d', usage: { input_tokens: 8, output_tokens: 30 } }));
    const next = await collectAll(claudeCodeAdapter, WINDOW, context(state));
    expect(counters(row(next, '2026-03-01T10:00:00.000Z', 'claude-haiku-4-5', 'sess-c'))).toEqual([0, 0, 0, 0, null, null, 0]);
    expect(counters(row(next, '2026-03-01T10:00:00.000Z', 'claude-haiku-4-5', 'sess-d'))).toEqual([8, 30, null, null, null, null, 1]);
  });

  it('reads a transcript overwritten in place from the start, though every Claude Code transcript begins with the same bytes', async () => {
    const state = createMemoryState();
    // Every transcript's first line begins `{"parentUuid":null,"isSidechain":false,"userType":"external","cw…`.
    const userLine = (session: string) =>
      `${JSON.stringify({ parentUuid: null, isSidechain: false, userType: 'external', cwd: '/Users/tom/src/app', sessionId: session, type: 'user', message: { role: 'user', content: 'go' } })}\n`;
    const usage = (output: number) => ({ input_tokens: 5, output_tokens: output });
    const session = file('sess-e.jsonl');
    writeFileSync(session, userLine('sess-e') + line({ id: 'msg_e1', req: 'req_e1', at: '2026-03-01T12:10:00.000Z', model: 'claude-opus-4-6', session: 'sess-e', usage: usage(100) }));
    await collectAll(claudeCodeAdapter, WINDOW, context(state));
    // Restored from elsewhere with `cp` (the same inode): another session of as many bytes up to the old offset, and more.
    writeFileSync(
      session,
      userLine('sess-f') +
        line({ id: 'msg_f1', req: 'req_f1', at: '2026-03-01T12:20:00.000Z', model: 'claude-opus-4-6', session: 'sess-f', usage: usage(200) }) +
        line({ id: 'msg_f2', req: 'req_f2', at: '2026-03-01T12:30:00.000Z', model: 'claude-opus-4-6', session: 'sess-f', usage: usage(300) }),
    );
    const next = await collectAll(claudeCodeAdapter, WINDOW, context(state));
    // msg_f1 lay before the old offset: continuing from there would have skipped it without a word.
    expect(counters(row(next, '2026-03-01T12:00:00.000Z', 'claude-opus-4-6', 'sess-f'))).toEqual([10, 500, null, null, null, null, 2]);
    // What was counted before stays counted.
    expect(counters(row(next, '2026-03-01T12:00:00.000Z', 'claude-opus-4-6', 'sess-e'))).toEqual([5, 100, null, null, null, null, 1]);
  });

  it('keeps two machines apart in one state', async () => {
    const state = createMemoryState();
    const laptop = await collectAll(claudeCodeAdapter, WINDOW, context(state, { instance: 'tom@laptop' }));
    const desktop = await collectAll(claudeCodeAdapter, WINDOW, context(state, { instance: 'tom@desktop' }));
    expect(laptop).toHaveLength(3);
    expect(desktop).toHaveLength(3);
    expect(desktop.every((record) => record.source_instance === 'tom@desktop')).toBe(true);
  });
});

describe('claudeCodeRoots', () => {
  it('reads CLAUDE_CONFIG_DIR (several, comma-separated) or ~/.claude and the XDG location', () => {
    expect(claudeCodeRoots({ CLAUDE_CONFIG_DIR: '/a, /b', HOME: '/home/tom' })).toEqual(['/a/projects', '/b/projects']);
    expect(claudeCodeRoots({ HOME: '/home/tom' })).toEqual(['/home/tom/.claude/projects', '/home/tom/.config/claude/projects']);
    expect(claudeCodeRoots({ HOME: '/home/tom', XDG_CONFIG_HOME: '/xdg' })).toEqual(['/home/tom/.claude/projects', '/xdg/claude/projects']);
  });
});
