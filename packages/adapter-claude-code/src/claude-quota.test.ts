import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestContext } from '@utt/adapter-testkit';
import { createStagedState, parseQuotaReading } from '@utt/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeCodeAdapter } from './claude-code-adapter';
import { claudeCodeConfigSchema } from './claude-code-config';
import { claudeStatuslineReadings } from './claude-statusline';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'quota');
const TOKEN = 'sk-ant-oat01-FAKE-token-for-tests-0123456789';
const NOW = new Date('2026-12-03T12:00:00Z');

type Reply = { status: number; body?: string; headers?: Record<string, string> };
let server: Server;
let baseUrl: string;
let replies: Reply[] = [];
const requests: { url: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    if (request.url === '/api/oauth/profile') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ account: { email_address: 'max@example.com' }, organization: { uuid: 'org-1' } }));
      return;
    }
    const reply = replies.shift() ?? { status: 500, body: 'no reply queued' };
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'utt-claude-quota-'));
  requests.length = 0;
  replies = [];
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeCredentials(expiresAt: number, extra: Record<string, unknown> = {}) {
  const file = path.join(home, '.credentials.json');
  writeFileSync(
    file,
    JSON.stringify({ claudeAiOauth: { accessToken: TOKEN, refreshToken: 'refresh-secret', expiresAt, scopes: ['user:inference', 'user:profile'], subscriptionType: 'max', rateLimitTier: 'default_claude_max_20x', ...extra } }),
  );
  return file;
}

/** Runs collectQuota at `now` with state carried over between calls, as the worker does. */
function quotaRunner(config: Record<string, unknown>) {
  let stored = new Map<string, unknown>();
  return async (now: Date) => {
    const staged = createStagedState(stored);
    const context = Object.assign(
      createTestContext({ config: claudeCodeConfigSchema.parse({ instance: 'dev@laptop', quota: { usageEndpoint: true, baseUrl, ...config } }), env: { HOME: home }, now }),
      { state: staged.state },
    );
    const readings = await claudeCodeAdapter.collectQuota?.(context);
    const changes = staged.changes();
    stored = new Map([...stored, ...changes.set]);
    for (const key of changes.deleted) stored.delete(key);
    return { readings: (readings ?? []).map((reading) => parseQuotaReading(reading, { source: 'claude' })), logs: context.logs, stored };
  };
}

const usage = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('Claude subscription quota from the OAuth usage endpoint', () => {
  it('reads every window of the recorded shape: percent → ratio unclamped, scoped windows, extra usage in cents', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() + 3_600_000);
    replies.push({ status: 200, body: usage('oauth-usage.json') });
    const { readings } = await quotaRunner({ credentialsFile })(NOW);
    expect(readings.map((r) => [r.window, r.usedRatio, r.rawValue, r.resetsAt?.toISOString() ?? null, r.status])).toEqual([
      ['5h', 0.61, 61, '2026-12-03T14:30:00.282Z', 'allowed'],
      ['7d', 1.04, 104, '2026-12-08T09:00:00.282Z', 'rejected'],
      ['7d_sonnet', 0.01, 1, '2026-12-08T09:00:00.000Z', 'allowed'],
      ['7d_fable', 0.05, 5, '2026-12-08T09:00:00.000Z', 'allowed'],
      ['extra_month', 0.05, 5, null, 'allowed'],
    ]);
    expect(readings.find((r) => r.window === 'extra_month')).toMatchObject({ limit: 100, remaining: 95, rawUnit: 'usd' });
    expect(readings.every((r) => r.account === 'max@example.com' && r.obtainedVia === 'endpoint')).toBe(true);
    const call = requests.find((request) => request.url === '/api/oauth/usage');
    expect(call?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(call?.headers['anthropic-beta']).toBe('oauth-2025-04-20');
  });

  it('a window not yet started (resets_at null) is 0 used with no reset, not a failure', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() + 3_600_000);
    replies.push({ status: 200, body: usage('oauth-usage-idle.json') });
    const { readings } = await quotaRunner({ credentialsFile, account: 'team@example.com' })(NOW);
    expect(readings.map((r) => [r.window, r.usedRatio, r.resetsAt, r.detail])).toEqual([
      ['5h', 0, null, 'plan default_claude_max_20x; no window running'],
      ['7d', 0.12, new Date('2026-12-08T09:00:00Z'), 'plan default_claude_max_20x'],
    ]);
    // An account from config needs no profile call.
    expect(requests.map((request) => request.url)).toEqual(['/api/oauth/usage']);
  });

  it('calls at most once per account per 5 minutes; backs off 5 minutes on a 429 without Retry-After', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() + 86_400_000);
    const run = quotaRunner({ credentialsFile, account: 'team@example.com' });
    replies.push({ status: 200, body: usage('oauth-usage-idle.json') });
    expect((await run(NOW)).readings).toHaveLength(2);
    expect((await run(new Date(NOW.getTime() + 4 * 60_000))).readings).toEqual([]);
    expect(requests).toHaveLength(1);
    replies.push({ status: 429, body: '{"error":{"type":"rate_limit_error","message":"Rate limited. Please try again later."}}' });
    const limited = await run(new Date(NOW.getTime() + 5 * 60_000));
    expect(limited.readings).toEqual([]);
    expect(limited.logs.map((line) => line.message).join('\n')).toMatch(/429/);
    expect(requests).toHaveLength(2);
    // Still inside the 5-minute back-off: no call.
    expect((await run(new Date(NOW.getTime() + 9 * 60_000))).readings).toEqual([]);
    expect(requests).toHaveLength(2);
    replies.push({ status: 200, body: usage('oauth-usage-idle.json') });
    expect((await run(new Date(NOW.getTime() + 10 * 60_000))).readings).toHaveLength(2);
    expect(requests).toHaveLength(3);
    // The gate is keyed by a hash of the token: the state never holds it.
    expect(JSON.stringify([...limited.stored])).not.toContain(TOKEN);
  });

  it('honours a longer Retry-After on a 429', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() + 86_400_000);
    const run = quotaRunner({ credentialsFile, account: 'team@example.com' });
    replies.push({ status: 429, headers: { 'retry-after': '1200' } });
    await run(NOW);
    await run(new Date(NOW.getTime() + 15 * 60_000));
    expect(requests).toHaveLength(1);
  });

  it.each([
    [401, /sign in again/],
    [403, /user:profile scope/],
  ])('HTTP %i is auth_required, with why and without the token', async (status, why) => {
    const credentialsFile = writeCredentials(NOW.getTime() + 3_600_000);
    replies.push({ status, body: '{"error":{"type":"permission_error"}}' });
    const { readings } = await quotaRunner({ credentialsFile, account: 'team@example.com' })(NOW);
    expect(readings).toHaveLength(1);
    expect(readings[0]).toMatchObject({ window: 'account', status: 'auth_required', usedRatio: null });
    expect(readings[0]?.detail).toMatch(why);
    expect(JSON.stringify(readings)).not.toContain(TOKEN);
  });

  it('an expired token is auth_required without any call (utt never refreshes it); no credentials is too', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() - 1000);
    writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ oauthAccount: { emailAddress: 'dev@example.com' } }));
    const { readings } = await quotaRunner({ credentialsFile })(NOW);
    expect(readings.map((r) => [r.account, r.status, r.detail])).toEqual([
      ['dev@example.com', 'auth_required', expect.stringMatching(/expired/)],
    ]);
    expect(requests).toEqual([]);
    expect(readFileSync(credentialsFile, 'utf8')).toContain('refresh-secret');
    const missing = await quotaRunner({ credentialsFile: path.join(home, 'nope.json') })(NOW);
    expect(missing.readings[0]).toMatchObject({ status: 'auth_required', account: 'dev@example.com' });
  });

  it('a 5xx is an error that names the status, never the token', async () => {
    const credentialsFile = writeCredentials(NOW.getTime() + 3_600_000);
    replies.push({ status: 503, body: 'upstream down' });
    await expect(quotaRunner({ credentialsFile, account: 'a@example.com' })(NOW)).rejects.toThrow(/HTTP 503/);
    await expect(quotaRunner({ credentialsFile, account: 'a@example.com' })(NOW)).rejects.not.toThrow(TOKEN);
  });

  it('is off unless usageEndpoint is set', async () => {
    const context = createTestContext({ config: claudeCodeConfigSchema.parse({}), env: { HOME: home }, now: NOW });
    expect(await claudeCodeAdapter.collectQuota?.(context)).toEqual([]);
    expect(() => claudeCodeConfigSchema.parse({ quota: { usageEndpoint: true, minIntervalSeconds: 30 } })).toThrow(/at least 300/);
  });
});

describe('claudeStatuslineReadings', () => {
  it('turns the recorded statusline JSON into 5h and 7d readings (percent, unix-second resets, over 100 kept)', () => {
    const input = JSON.parse(usage('statusline.json'));
    const readings = claudeStatuslineReadings(input, { account: 'dev@example.com', observedAt: NOW });
    expect(readings.map((r) => [r.window, r.usedRatio, (r.resetsAt as Date).toISOString(), r.status, r.obtainedVia])).toEqual([
      ['5h', 0.423, '2026-12-03T14:00:00.000Z', 'allowed', 'piggyback'],
      ['7d', 1.05, '2026-12-08T12:00:00.000Z', 'rejected', 'piggyback'],
    ]);
  });

  it('records nothing before the first response or on API-key sessions (rate_limits absent or null)', () => {
    expect(claudeStatuslineReadings({ model: {} }, { account: 'a', observedAt: NOW })).toEqual([]);
    expect(claudeStatuslineReadings({ rate_limits: { five_hour: null, seven_day: { used_percentage: null } } }, { account: 'a', observedAt: NOW })).toEqual([]);
  });
});
