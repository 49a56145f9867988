import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryState } from '@utt/agent-logs';
import { collectAll, createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import type { UsageAdapterV1State, UsageRecordInput } from '@utt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { geminiCliAdapter } from './gemini-cli-adapter';
import { geminiCliConfigSchema } from './gemini-cli-config';
import { geminiCliRoots } from './gemini-cli-paths';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'gemini');
const WINDOW = { start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-06-02T00:00:00Z'), granularity: 'hour' as const };

describeUsageAdapterConformance({
  adapter: geminiCliAdapter,
  config: { paths: [path.join(FIXTURES, 'tmp')], instance: 'tom@laptop' },
  window: WINDOW,
  // Gemini's prompt count includes cached tokens: input is prompt − cached + tool-use prompt.
  expected: {
    response: '__fixtures__/tmp session g1',
    records: [
      {
        bucket_start: '2026-06-01T10:00:00Z',
        model: 'gemini-2.5-pro',
        labels: { session: 'g1' },
        input_tokens: 1_550,
        output_tokens: 450,
        cached_read_tokens: 200,
        reasoning_tokens: 110,
        requests: 2,
      },
    ],
  },
});

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'utt-gemini-'));
  cpSync(FIXTURES, dataDir, { recursive: true });
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function context(state?: UsageAdapterV1State) {
  const base = createTestContext({
    config: geminiCliConfigSchema.parse({ instance: 'tom@laptop' }),
    env: { GEMINI_DATA_DIR: dataDir },
    now: new Date('2026-06-01T13:00:00Z'),
  });
  return Object.assign(base, { state });
}

const find = (records: readonly UsageRecordInput[], hour: string, model: string, session: string) =>
  records.find((record) => (record.bucket_start as Date).toISOString() === hour && record.model === model && record.labels?.session === session);
// [input (uncached, tool-use prompt included), output (with thoughts), cache read, cache write, of which 1h, reasoning, requests]
const counters = (record: UsageRecordInput | undefined) =>
  record && [record.input_tokens, record.output_tokens, record.cached_read_tokens, record.cached_write_tokens, record.cached_write_1h_tokens, record.reasoning_tokens, record.requests];

describe('gemini-cli: session recordings', () => {
  it('totals exactly as written by hand, with both token spellings, and counts a broken recording', async () => {
    const test = context();
    const records = await collectAll(geminiCliAdapter, WINDOW, test);
    // m2: 1200 prompt − 200 cached + 50 tool = 1050 in, 300 + 100 thoughts out; m3: 500 in, 40 + 10 out.
    expect(counters(find(records, '2026-06-01T10:00:00.000Z', 'gemini-2.5-pro', 'g1'))).toEqual([1550, 450, 200, null, null, 110, 2]);
    expect(counters(find(records, '2026-06-01T11:00:00.000Z', 'gemini-2.5-flash', 'g1'))).toEqual([100, 20, null, null, null, null, 1]);
    expect(counters(find(records, '2026-06-01T11:00:00.000Z', 'gemini-2.5-flash', 'g2'))).toEqual([20, 3, 10, null, null, null, 1]);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ provider: 'google', labels: { project: '9f2c1a' } });
    const warning = test.logs.find((entry) => entry.message.includes('unreadable transcript line'));
    expect(JSON.stringify(warning?.fields)).toContain('session-broken.json:0: not valid JSON');
  });

  it('counts the messages after one it cannot read, and names that one', async () => {
    const test = context();
    const file = path.join(dataDir, 'tmp/9f2c1a/chats/session-2026-06-01T12-00-g4.json');
    const message = (id: string, timestamp: string | undefined, input: number) => ({ id, timestamp, type: 'gemini', model: 'gemini-2.5-flash', tokens: { input, output: 1 } });
    writeFileSync(
      file,
      JSON.stringify({ sessionId: 'g4', messages: [message('a', '2026-06-01T12:01:00.000Z', 1), message('b', undefined, 10), message('c', '2026-06-01T12:03:00.000Z', 100)] }),
    );
    const records = await collectAll(geminiCliAdapter, WINDOW, test);
    expect(counters(find(records, '2026-06-01T12:00:00.000Z', 'gemini-2.5-flash', 'g4'))).toEqual([101, 2, null, null, null, null, 2]);
    const warning = test.logs.find((entry) => entry.message.includes('unreadable transcript line'));
    expect(warning?.message).toContain('2 unreadable');
    // Files are read in path order: this recording before the broken one.
    expect(JSON.stringify(warning?.fields)).toContain('session-2026-06-01T12-00-g4.json:0: messages[1]: timestamp: missing or not a date');
  });

  it('takes a recording caught empty (created, or truncated by its rewrite) for one not written yet, not for a broken one', async () => {
    const state = createMemoryState();
    rmSync(path.join(dataDir, 'tmp/9f2c1a/chats/session-broken.json'));
    await collectAll(geminiCliAdapter, WINDOW, context(state));
    const file = path.join(dataDir, 'tmp/9f2c1a/chats/session-2026-06-01T12-00-g5.json');
    writeFileSync(file, '');
    const caught = context(state);
    expect(await collectAll(geminiCliAdapter, WINDOW, caught)).toEqual([]);
    expect(caught.logs.filter((entry) => entry.level === 'warn')).toEqual([]);
    writeFileSync(file, JSON.stringify({ sessionId: 'g5', messages: [{ id: 'a', timestamp: '2026-06-01T12:01:00.000Z', type: 'gemini', model: 'gemini-2.5-flash', tokens: { input: 7, output: 1 } }] }));
    const written = await collectAll(geminiCliAdapter, WINDOW, context(state));
    expect(counters(find(written, '2026-06-01T12:00:00.000Z', 'gemini-2.5-flash', 'g5'))).toEqual([7, 1, null, null, null, null, 1]);
  });

  it('re-reads a rewritten recording without counting its earlier messages twice', async () => {
    const state = createMemoryState();
    expect(await collectAll(geminiCliAdapter, WINDOW, context(state))).toHaveLength(3);
    expect(await collectAll(geminiCliAdapter, WINDOW, context(state))).toEqual([]);
    const file = path.join(dataDir, 'tmp/9f2c1a/chats/session-2026-06-01T10-00-g1.json');
    const document = JSON.parse(readFileSync(file, 'utf8')) as { messages: unknown[] };
    document.messages.push({ id: 'm5', timestamp: '2026-06-01T11:40:00.000Z', type: 'gemini', model: 'gemini-2.5-flash', tokens: { input: 10, output: 5 } });
    writeFileSync(file, JSON.stringify(document, null, 2));
    const next = await collectAll(geminiCliAdapter, WINDOW, context(state));
    expect(next).toHaveLength(2);
    expect(counters(find(next, '2026-06-01T11:00:00.000Z', 'gemini-2.5-flash', 'g1'))).toEqual([110, 25, null, null, null, null, 2]);
    expect(counters(find(next, '2026-06-01T11:00:00.000Z', 'gemini-2.5-flash', 'g2'))).toEqual([20, 3, 10, null, null, null, 1]);
  });
});

describe('geminiCliRoots', () => {
  it('reads ~/.gemini/tmp or GEMINI_DATA_DIR/tmp', () => {
    expect(geminiCliRoots({ HOME: '/home/tom' })).toEqual(['/home/tom/.gemini/tmp']);
    expect(geminiCliRoots({ GEMINI_DATA_DIR: '/g' })).toEqual(['/g/tmp']);
  });
});
