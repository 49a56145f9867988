import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { QuotaReading, TrackedCallV1 } from '@utt/core';
import { openStore, type UsageStore } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { workerConfigSchema } from '../config/worker-config-schema';
import { runAlerts } from './run-alerts';

const T0 = new Date('2026-12-03T13:30:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let directory: string;
let store: UsageStore;
beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'utt-alerts-'));
  cpSync(inject('pgliteTemplate'), path.join(directory, 'db'), { recursive: true });
  store = await openStore({ path: path.join(directory, 'db') });
}, 120_000);
afterAll(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

const config = workerConfigSchema.parse({
  alerts: {
    channels: { log: { type: 'stdout' } },
    rules: [
      { name: 'underspend', type: 'underspend' },
      { name: 'stale', type: 'source-stale', staleAfter: '30m' },
    ],
  },
  sources: [{ name: 'codex', adapter: '@utt/adapter-codex' }],
});

function reading(window: '5h' | '7d', usedRatio: number, resetsAt: Date, observedAt: Date): QuotaReading {
  return {
    source: 'codex', provider: 'openai', account: 'plus', window, windowSeconds: window === '5h' ? 18_000 : 604_800, usedRatio,
    rawValue: null, rawUnit: null, limit: null, remaining: null, resetsAt, status: 'allowed', obtainedVia: 'log', observedAt, confirmedAt: observedAt, detail: null,
  };
}

describe('runAlerts', () => {
  it('underspend and stale sources: once per crossing, once on recovery, nothing in between', async () => {
    const lines: string[] = [];
    const run = (now: Date) => runAlerts({ store, config, now, fetch: globalThis.fetch, write: (text) => lines.push(text), secrets: new Set() });
    // 5h window 70 % unused, 1 h to reset; weekly 20 % used two days in (reserve): underspend.
    await store.writeQuotaReadings({ source: 'codex', sourceSystem: 'codex_cli', readings: [reading('5h', 0.3, at(60), T0), reading('7d', 0.2, new Date(T0.getTime() + 5 * 86_400_000), T0)], now: T0 });
    await store.recordSourceStatus({ source: 'codex', sourceSystem: 'codex_cli', status: 'error', error: 'boom', now: T0 });
    const first = await run(at(1));
    expect(first.filter((entry) => entry.notified).map((entry) => [entry.rule, entry.subject, entry.level])).toEqual([
      ['underspend', 'openai/plus/5h', 'underspend'],
      ['stale', 'codex', 'stale'],
    ]);
    expect((await run(at(2))).filter((entry) => entry.notified)).toEqual([]);
    // The window reset; a new one at 5 % with 4.9 h left: no longer underspend. The source succeeds again.
    await store.writeQuotaReadings({ source: 'codex', sourceSystem: 'codex_cli', readings: [reading('5h', 0.05, at(360), at(65)), reading('7d', 0.21, new Date(T0.getTime() + 5 * 86_400_000), at(65))], now: at(65) });
    await store.writeSourceWindow({ source: 'codex', sourceSystem: 'codex_cli', rows: [], status: { status: 'ok' }, now: at(65) });
    const recovered = await run(at(66));
    expect(recovered.filter((entry) => entry.notified).map((entry) => [entry.rule, entry.subject, entry.previousLevel, entry.level])).toEqual([
      ['underspend', 'openai/plus/5h', 'underspend', 'ok'],
      ['stale', 'codex', 'stale', 'ok'],
    ]);
    expect(lines).toEqual([
      '[underspend] openai plus: 70% of the 5h window unused, resets in 59m (weekly 80% left)\n',
      '[stale] codex is stale: last success never (boom)\n',
      '[underspend] ✅ openai plus: 5h underspend over (was underspend)\n',
      '[stale] ✅ codex is fresh again (was stale)\n',
    ]);
  });
});

function trackedCall(costUsd: string, occurredAt: Date): TrackedCallV1 {
  return {
    specificationVersion: 'v1', eventId: randomUUID(), sourceSystem: 'billing-api', sourceInstance: 'web-1', occurredAt, provider: 'openai', model: 'gpt-test',
    operation: 'chat.completions', inputTokens: 1000, outputTokens: 100, cachedReadTokens: 0, cachedWriteTokens: null, cachedWrite1hTokens: null, reasoningTokens: 0,
    webSearches: null, serviceTier: '', latencyMs: 100, streaming: false, responseId: null, threadId: null, agentId: null, tags: {}, labels: {},
    usageOrigin: 'response', costUsd, priceRef: 'test', unpricedReason: null,
  };
}

describe('the budget rule', () => {
  it('posts to the webhook once per crossing: soft threshold, limit, and back under in the next period', async () => {
    const posts: string[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        posts.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }).text);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const budgetConfig = workerConfigSchema.parse({
        budgets: [{ name: 'api-daily', period: 'day', limitUsd: 10, softThreshold: 0.5, scope: { source: 'billing-api' } }],
        alerts: {
          channels: { chat: { type: 'slack', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` } },
          rules: [{ name: 'spend', type: 'budget' }],
        },
      });
      const day = new Date('2026-12-04T08:00:00Z');
      const hours = (count: number) => new Date(day.getTime() + count * 3_600_000);
      const run = (now: Date) => runAlerts({ store, config: budgetConfig, now, fetch: globalThis.fetch, write: () => {}, secrets: new Set() });
      const notified = async (now: Date) => (await run(now)).filter((entry) => entry.notified).map((entry) => [entry.subject, entry.previousLevel, entry.level]);

      await store.writeTrackedCalls([trackedCall('3', hours(0))]);
      // Under the soft threshold from the start: nothing to say.
      expect(await notified(hours(1))).toEqual([]);
      await store.writeTrackedCalls([trackedCall('3', hours(1))]);
      expect(await notified(hours(2))).toEqual([['api-daily', 'ok', 'warning']]);
      expect(await notified(hours(2.5))).toEqual([]);
      await store.writeTrackedCalls([trackedCall('2', hours(2)), trackedCall('2.5', hours(3))]);
      expect(await notified(hours(4))).toEqual([['api-daily', 'warning', 'critical']]);
      expect(await notified(hours(5))).toEqual([]);
      // A new day: the period's spend starts again at $0.
      expect(await notified(hours(17))).toEqual([['api-daily', 'critical', 'ok']]);
      expect(await notified(hours(18))).toEqual([]);
      expect(posts).toEqual([
        ':warning: utt: budget api-daily past its soft threshold: $6.00 of $10.00 (60.0%) this day',
        ':red_circle: utt: budget api-daily over its limit: $10.50 of $10.00 (105.0%) this day',
        'utt: ✅ budget api-daily back under: $0.00 of $10.00 (0.0%) this day (was critical)',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names an unknown budget in the rule', async () => {
    const bad = workerConfigSchema.parse({ budgets: [{ name: 'api-daily', period: 'day', limitUsd: 10 }], alerts: { rules: [{ name: 'spend', type: 'budget', budgets: ['api-dialy'] }] } });
    await expect(runAlerts({ store, config: bad, now: T0, fetch: globalThis.fetch, write: () => {}, secrets: new Set() })).rejects.toThrow(
      'alerts.rules "spend".budgets: no budget named "api-dialy" under budgets:',
    );
  });
});
