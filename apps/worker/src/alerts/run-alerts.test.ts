import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { QuotaReading } from '@utt/core';
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
