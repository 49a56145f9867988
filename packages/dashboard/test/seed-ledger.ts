import type { QuotaReading, TrackedCallV1 } from '@utt/core';
import type { UsageStore } from '@utt/postgres';
import { SEED_NOW } from './seed-dashboard';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A tag value a spreadsheet would run: the Calls and Tags exports must defuse it. */
export const FORMULA_TAG = "=cmd|' /C calc'!A0";

/**
 * The tracker's call ledger and quota readings beside seedDashboard's rows:
 * two applications calling Anthropic and Google over the last 14 days (so
 * the seeded overview, usage and anomaly figures keep their providers
 * apart), tags with a formula-looking value, untagged calls, streams cut
 * before their usage, an unpriced model; and quota windows of two Claude
 * team seats and a Codex plan, one of them stale.
 */
export async function seedLedger(store: UsageStore, now = SEED_NOW): Promise<{ calls: TrackedCallV1[]; readings: QuotaReading[] }> {
  const calls: TrackedCallV1[] = [];
  const features = ['chat', 'search', 'summarise'] as const;
  const tenants = ['acme', 'globex', FORMULA_TAG] as const;
  for (let index = 0; index < 140; index += 1) {
    const occurredAt = new Date(now.getTime() - (index * 143 + 7) * MINUTE - (index % 7) * 1000);
    const anthropic = index % 4 !== 3;
    const untagged = index % 10 === 9;
    const cut = index % 25 === 12;
    const unpriced = index % 33 === 20;
    const input = 800 + (index % 9) * 150;
    const output = 120 + (index % 5) * 40;
    const model = unpriced ? 'gemini-experimental' : anthropic ? 'claude-haiku-4-5' : 'gemini-2.5-flash';
    const cost = unpriced || cut ? null : anthropic ? (input * 1 + output * 5) / 1e6 : (input * 0.3 + output * 2.5) / 1e6;
    calls.push({
      specificationVersion: 'v1',
      eventId: `7a1e0000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      sourceSystem: index % 3 === 0 ? 'billing-api' : 'support-bot',
      sourceInstance: index % 3 === 0 ? 'worker-1' : 'web-1',
      occurredAt,
      provider: unpriced || !anthropic ? 'google' : 'anthropic',
      model,
      operation: anthropic && !unpriced ? 'messages' : 'generateContent',
      inputTokens: cut ? null : input,
      outputTokens: cut ? null : output,
      cachedReadTokens: cut || !anthropic ? null : (index % 4) * 200,
      cachedWriteTokens: cut || !anthropic ? null : 0,
      cachedWrite1hTokens: null,
      reasoningTokens: null,
      webSearches: null,
      serviceTier: '',
      latencyMs: cut ? null : 400 + (index % 11) * 37,
      streaming: cut || index % 5 === 0,
      responseId: null,
      threadId: null,
      agentId: null,
      tags: untagged ? {} : { feature: features[index % 3] as string, tenant: tenants[index % tenants.length] as string },
      labels: {},
      usageOrigin: cut ? 'unknown' : index % 5 === 0 ? 'stream' : 'response',
      costUsd: cost === null ? null : cost.toFixed(6),
      priceRef: cost === null ? null : `override:${anthropic ? 'anthropic/claude-haiku-4-5' : 'google/gemini-2.5-flash'}`,
      unpricedReason: unpriced ? 'no_price' : null,
    });
  }
  await store.writeTrackedCalls(calls);

  const reading = (overrides: Partial<QuotaReading> & Pick<QuotaReading, 'account' | 'window' | 'observedAt'>): QuotaReading => ({
    source: 'claude-team',
    provider: 'anthropic',
    windowSeconds: overrides.window === '5h' ? 5 * 3600 : 7 * 86_400,
    usedRatio: null,
    rawValue: null,
    rawUnit: 'percent',
    limit: null,
    remaining: null,
    resetsAt: null,
    status: 'allowed',
    obtainedVia: 'endpoint',
    detail: null,
    confirmedAt: overrides.observedAt,
    ...overrides,
  });
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  const readings: QuotaReading[] = [
    // team-a: a 5-hour window 3 h in at 30 %, the weekly one at 40 % with 3 days left.
    reading({ account: 'team-a', window: '5h', observedAt: at(-60 * MINUTE), usedRatio: 0.2, rawValue: 20, resetsAt: at(2 * HOUR) }),
    reading({ account: 'team-a', window: '5h', observedAt: at(-5 * MINUTE), usedRatio: 0.3, rawValue: 30, resetsAt: at(2 * HOUR) }),
    reading({ account: 'team-a', window: '7d', observedAt: at(-5 * MINUTE), usedRatio: 0.4, rawValue: 40, resetsAt: at(3 * 24 * HOUR) }),
    // team-b: burning fast: 5-hour window at 97 % (CRITICAL), weekly at 85 % with 2 days left.
    reading({ account: 'team-b', window: '5h', observedAt: at(-4 * MINUTE), usedRatio: 0.97, rawValue: 97, resetsAt: at(90 * MINUTE), status: 'warning' }),
    reading({ account: 'team-b', window: '7d', observedAt: at(-4 * MINUTE), usedRatio: 0.85, rawValue: 85, resetsAt: at(2 * 24 * HOUR) }),
  ];
  await store.writeQuotaReadings({ source: 'claude-team', sourceSystem: 'claude_code', readings: readings.slice(0, 1), now: at(-60 * MINUTE) });
  await store.writeQuotaReadings({ source: 'claude-team', sourceSystem: 'claude_code', readings: readings.slice(1), now: at(-4 * MINUTE) });
  // Codex on a Plus plan, last read two hours ago: stale.
  const codex = reading({
    source: 'codex',
    provider: 'openai',
    account: 'plus@example.com',
    window: '7d',
    observedAt: at(-2 * HOUR),
    usedRatio: 0.64,
    rawValue: 64,
    resetsAt: at(5 * 24 * HOUR),
    obtainedVia: 'log',
  });
  await store.writeQuotaReadings({ source: 'codex', sourceSystem: 'codex', readings: [codex], now: at(-2 * HOUR) });
  return { calls, readings: [...readings, codex] };
}
