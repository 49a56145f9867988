import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestContext } from '@utt/adapter-testkit';
import { createStagedState, parseQuotaReading } from '@utt/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codexAdapter } from './codex-adapter';
import { codexConfigSchema } from './codex-config';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'quota');
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.fake-chatgpt-access-token';
const NOW = new Date('2026-12-03T12:00:00Z');

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'utt-codex-quota-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function rollout(day: string, name: string, lines: unknown[], mtime: Date) {
  const directory = path.join(home, '.codex', 'sessions', ...day.split('-'));
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `rollout-${name}.jsonl`);
  writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  utimesSync(file, mtime, mtime);
}

const tokenCount = (timestamp: string, rateLimits: unknown) => ({ timestamp, type: 'event_msg', payload: { type: 'token_count', info: null, rate_limits: rateLimits } });

let stored = new Map<string, unknown>();
async function collect(quota: Record<string, unknown> = {}, now = NOW) {
  const staged = createStagedState(stored);
  const context = Object.assign(createTestContext({ config: codexConfigSchema.parse({ instance: 'dev@laptop', quota }), env: { HOME: home }, now }), {
    state: staged.state,
  });
  const readings = (await codexAdapter.collectQuota?.(context)) ?? [];
  stored = new Map([...stored, ...staged.changes().set]);
  return readings.map((reading) => parseQuotaReading(reading, { source: 'codex' }));
}

describe('Codex quota from rollout logs (zero calls)', () => {
  it('2026 shape: resets_at wins over the legacy relative reset; the newest event of the newest files counts', async () => {
    rollout('2026-12-03', 'new', [
      tokenCount('2026-12-03T10:00:00Z', { limit_id: 'codex', primary: { used_percent: 10, window_minutes: 300, resets_at: 1796306400 }, secondary: { used_percent: 20, window_minutes: 10080, resets_at: 1796731200 }, plan_type: 'pro' }),
      tokenCount('2026-12-03T11:00:00Z', { limit_id: 'codex', primary: { used_percent: 12.5, window_minutes: 300, resets_at: 1796306400, resets_in_seconds: 1 }, secondary: { used_percent: 21.0, window_minutes: 10080, resets_at: 1796731200 }, credits: null, plan_type: 'pro' }),
      tokenCount('2026-12-03T11:05:00Z', null),
    ], new Date('2026-12-03T11:05:00Z'));
    rollout('2026-12-01', 'old', [tokenCount('2026-12-01T10:00:00Z', { primary: { used_percent: 90, window_minutes: 300, resets_at: 1796000000 } })], new Date('2026-12-01T10:00:00Z'));
    const readings = await collect();
    expect(readings.map((r) => [r.window, r.usedRatio, r.resetsAt?.toISOString(), r.observedAt.toISOString(), r.obtainedVia, r.account])).toEqual([
      ['5h', 0.125, '2026-12-03T14:00:00.000Z', '2026-12-03T11:00:00.000Z', 'log', 'dev@laptop'],
      ['7d', 0.21, '2026-12-08T12:00:00.000Z', '2026-12-03T11:00:00.000Z', 'log', 'dev@laptop'],
    ]);
  });

  it('weekly-only accounts: a 10080-minute primary is 7d, not 5h', async () => {
    rollout('2026-12-03', 'weekly', [
      tokenCount('2026-12-03T11:00:00Z', { limit_id: 'codex', primary: { used_percent: 64, window_minutes: 10080, resets_at: 1796731200 }, secondary: null, plan_type: 'plus' }),
    ], NOW);
    expect((await collect()).map((r) => [r.window, r.usedRatio])).toEqual([['7d', 0.64]]);
  });

  it('0.41 shape: resets_in_seconds counts from the line, not from now', async () => {
    rollout('2026-11-20', 'v041', [
      tokenCount('2026-11-20T08:00:00Z', { primary: { used_percent: 105, window_minutes: 299, resets_in_seconds: 3600 }, secondary: { used_percent: 40, window_minutes: 10080, resets_in_seconds: 86400 } }),
    ], NOW);
    expect((await collect()).map((r) => [r.window, r.usedRatio, r.resetsAt?.toISOString(), r.status])).toEqual([
      ['5h', 1.05, '2026-11-20T09:00:00.000Z', 'rejected'],
      ['7d', 0.4, '2026-11-21T08:00:00.000Z', 'allowed'],
    ]);
  });

  it('≤ 0.40 flat shape: windows by minutes, no reset', async () => {
    rollout('2025-09-01', 'v040', [
      tokenCount('2025-09-01T08:00:00Z', { primary_used_percent: 33, secondary_used_percent: 7, primary_to_secondary_ratio_percent: 50, primary_window_minutes: 300, secondary_window_minutes: 10080 }),
    ], NOW);
    expect((await collect()).map((r) => [r.window, r.usedRatio, r.resetsAt])).toEqual([
      ['5h', 0.33, null],
      ['7d', 0.07, null],
    ]);
  });

  it('no rollout files, or only null rate_limits: no readings', async () => {
    expect(await collect()).toEqual([]);
    rollout('2026-12-03', 'nulls', [tokenCount('2026-12-03T11:00:00Z', null)], NOW);
    expect(await collect()).toEqual([]);
  });
});

describe('Codex quota from the ChatGPT usage endpoint', () => {
  type Reply = { status: number; body?: string };
  let server: Server;
  let baseUrl: string;
  const replies: Reply[] = [];
  const requests: IncomingMessage['headers'][] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push({ ...request.headers, path: request.url });
      const reply = replies.shift() ?? { status: 500 };
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(reply.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests.length = 0;
    replies.length = 0;
    stored = new Map();
    mkdirSync(path.join(home, '.codex'), { recursive: true });
    writeFileSync(path.join(home, '.codex', 'auth.json'), JSON.stringify({ OPENAI_API_KEY: null, tokens: { id_token: 'x', access_token: TOKEN, refresh_token: 'r', account_id: 'acct-123' } }));
  });

  it('classifies by limit_window_seconds (the 5-hour window only in additional_rate_limits), string numbers, once per 5 minutes', async () => {
    replies.push({ status: 200, body: readFileSync(path.join(FIXTURES, 'wham-usage.json'), 'utf8') });
    const readings = await collect({ logs: false, usageEndpoint: true, baseUrl });
    expect(readings.map((r) => [r.window, r.usedRatio, r.resetsAt?.toISOString(), r.status, r.account])).toEqual([
      ['7d', 0.43, '2026-12-08T12:00:00.000Z', 'allowed', 'acct-123'],
      ['5h_codex_5h', 0.22, '2026-12-03T14:00:00.000Z', 'allowed', 'acct-123'],
      ['7d_gpt_5_3_codex_spark', 1.01, '2026-12-08T12:00:00.000Z', 'rejected', 'acct-123'],
    ]);
    expect(requests[0]).toMatchObject({ path: '/backend-api/wham/usage', authorization: `Bearer ${TOKEN}`, 'chatgpt-account-id': 'acct-123' });
    expect(await collect({ logs: false, usageEndpoint: true, baseUrl }, new Date(NOW.getTime() + 60_000))).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it('401 is auth_required without the token; 429 backs off', async () => {
    replies.push({ status: 401, body: '{}' });
    const refused = await collect({ logs: false, usageEndpoint: true, baseUrl });
    expect(refused.map((r) => [r.window, r.status])).toEqual([['account', 'auth_required']]);
    expect(JSON.stringify(refused)).not.toContain(TOKEN);
    stored = new Map();
    replies.push({ status: 429 });
    expect(await collect({ logs: false, usageEndpoint: true, baseUrl })).toEqual([]);
    expect(await collect({ logs: false, usageEndpoint: true, baseUrl }, new Date(NOW.getTime() + 4 * 60_000))).toEqual([]);
    expect(requests).toHaveLength(2);
  });
});
