import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryState } from '@utt/agent-logs';
import { collectAll, createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import type { UsageAdapterV1State, UsageRecordInput } from '@utt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codexAdapter } from './codex-adapter';
import { codexConfigSchema } from './codex-config';
import { codexRoots } from './codex-paths';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'codex');
const WINDOW = { start: new Date('2026-05-14T00:00:00Z'), end: new Date('2026-05-15T00:00:00Z'), granularity: 'hour' as const };

describeUsageAdapterConformance({
  adapter: codexAdapter,
  config: { paths: [FIXTURES], instance: 'tom@laptop' },
  window: WINDOW,
  // Codex's input_tokens includes cached_input_tokens: input is the difference.
  expected: {
    response: '__fixtures__ session S1 (totals 1000/200/100/40, then 2500/1200/300/100)',
    records: [
      {
        bucket_start: '2026-05-14T10:00:00Z',
        model: 'gpt-5-codex',
        labels: { session: 'S1' },
        input_tokens: 1_300,
        output_tokens: 300,
        cached_read_tokens: 1_200,
        reasoning_tokens: 100,
        requests: 2,
      },
    ],
  },
});

let codexHome: string;
beforeEach(() => {
  codexHome = mkdtempSync(path.join(os.tmpdir(), 'utt-codex-'));
  cpSync(FIXTURES, codexHome, { recursive: true });
});
afterEach(() => rmSync(codexHome, { recursive: true, force: true }));

function context(state?: UsageAdapterV1State) {
  const base = createTestContext({
    config: codexConfigSchema.parse({ instance: 'tom@laptop' }),
    env: { CODEX_HOME: codexHome },
    now: new Date('2026-05-14T13:00:00Z'),
  });
  return Object.assign(base, { state });
}

const parent = () => path.join(codexHome, 'sessions/2026/05/14/rollout-2026-05-14T09-59-00-aaaa.jsonl');
const find = (records: readonly UsageRecordInput[], hour: string, model: string, session: string) =>
  records.find((record) => (record.bucket_start as Date).toISOString() === hour && record.model === model && record.labels?.session === session);
// [input (uncached), output (with reasoning), cache read, cache write, of which 1h, reasoning, requests]
const counters = (record: UsageRecordInput | undefined) =>
  record && [record.input_tokens, record.output_tokens, record.cached_read_tokens, record.cached_write_tokens, record.cached_write_1h_tokens, record.reasoning_tokens, record.requests];

function tokenCount(at: string, total: [number, number, number, number], last: [number, number, number, number]) {
  const usage = ([input, cached, output, reasoning]: number[]) => ({
    input_tokens: input,
    cached_input_tokens: cached,
    output_tokens: output,
    reasoning_output_tokens: reasoning,
    total_tokens: (input ?? 0) + (output ?? 0),
  });
  return `${JSON.stringify({ timestamp: at, type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: usage(total), last_token_usage: usage(last) } } })}\n`;
}

describe('codex: cumulative totals, repeats, resets, forks and archived copies', () => {
  it('totals exactly as written by hand', async () => {
    const test = context();
    const records = await collectAll(codexAdapter, WINDOW, test);
    // 10:00 total 1000/200/100/40 (its unchanged repeat at 10:00:05 skipped), 10:10 total 2500/1200/300/100 (delta 1500/1000/200/60).
    expect(counters(find(records, '2026-05-14T10:00:00.000Z', 'gpt-5-codex', 'S1'))).toEqual([1300, 300, 1200, null, null, 100, 2]);
    // 11:05 the total drops to 400/0/50/0 (a restart: its last usage counts), 11:30 only last_token_usage 100/50/10/5.
    expect(counters(find(records, '2026-05-14T11:00:00.000Z', 'gpt-5', 'S1'))).toEqual([450, 60, 50, null, null, 5, 2]);
    // The fork copies the 10:10 event (whose delta in the fork would be the whole 2500/1200/300/100) and adds 500/300/100/50.
    expect(counters(find(records, '2026-05-14T10:00:00.000Z', 'gpt-5-codex', 'S2'))).toEqual([200, 100, 300, null, null, 50, 1]);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ provider: 'openai', source_instance: 'tom@laptop', labels: { project: '/home/tom/api' } });
    const warning = test.logs.find((entry) => entry.message.includes('unreadable transcript line'));
    expect(JSON.stringify(warning?.fields)).toContain(`${parent()}:9: not valid JSON`);
  });

  it('continues the cumulative totals across cycles and returns only the touched hour', async () => {
    const state = createMemoryState();
    expect(await collectAll(codexAdapter, WINDOW, context(state))).toHaveLength(3);
    // Unchanged total, fresh timestamp: nothing new.
    appendFileSync(parent(), tokenCount('2026-05-14T11:35:00.000Z', [400, 0, 50, 0], [400, 0, 50, 0]));
    expect(await collectAll(codexAdapter, WINDOW, context(state))).toEqual([]);
    // 600/100/80/10 after 400/0/50/0: a delta of 200/100/30/10.
    appendFileSync(parent(), tokenCount('2026-05-14T11:40:00.000Z', [600, 100, 80, 10], [200, 100, 30, 10]));
    const next = await collectAll(codexAdapter, WINDOW, context(state));
    expect(next).toHaveLength(1);
    expect(counters(find(next, '2026-05-14T11:00:00.000Z', 'gpt-5', 'S1'))).toEqual([550, 90, 150, null, null, 15, 3]);
  });
});

describe('codexRoots', () => {
  it('reads sessions and archived_sessions under CODEX_HOME or ~/.codex', () => {
    expect(codexRoots({ CODEX_HOME: '/c' })).toEqual(['/c/sessions', '/c/archived_sessions']);
    expect(codexRoots({ HOME: '/home/tom' })).toEqual(['/home/tom/.codex/sessions', '/home/tom/.codex/archived_sessions']);
  });
});
