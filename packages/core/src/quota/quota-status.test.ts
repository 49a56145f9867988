import { describe, expect, it } from 'vitest';
import type { QuotaReading } from './quota-reading';
import { formatCountdown, quotaStatusRows } from './quota-status';

const NOW = new Date('2026-12-03T12:00:00Z');
const minutes = (count: number) => new Date(NOW.getTime() + count * 60_000);

function reading(overrides: Partial<QuotaReading>): QuotaReading {
  return {
    source: 'claude',
    provider: 'anthropic',
    account: 'team-a',
    window: '5h',
    windowSeconds: 18_000,
    usedRatio: 0.3,
    rawValue: 30,
    rawUnit: 'percent',
    limit: null,
    remaining: null,
    resetsAt: minutes(120),
    status: 'allowed',
    obtainedVia: 'endpoint',
    observedAt: minutes(-5),
    confirmedAt: minutes(-5),
    detail: null,
    ...overrides,
  };
}

describe('quotaStatusRows', () => {
  it('judges severity, staleness and pace of each latest reading', () => {
    const [fresh, stale, reset] = quotaStatusRows(
      [reading({}), reading({ account: 'team-b', usedRatio: 0.97, confirmedAt: minutes(-30), observedAt: minutes(-30) }), reading({ account: 'team-c', usedRatio: 0.9, resetsAt: minutes(-1) })],
      [],
      { now: NOW, thresholds: { warning: 0.8, critical: 0.95 }, staleAfterMs: 20 * 60_000 },
    );
    expect(fresh).toMatchObject({ usedRatio: 0.3, severity: 'OK', stale: false, historicalPace: null });
    // 3 of 5 hours elapsed: an even pace is at 60 %, 30 % used is 30 points in reserve.
    expect(fresh?.pace?.expectedRatio).toBeCloseTo(0.6, 9);
    expect(fresh?.pace?.deltaRatio).toBeCloseTo(-0.3, 9);
    expect(stale).toMatchObject({ severity: 'CRITICAL', stale: true });
    // The reset passed: nothing of the new window is used yet.
    expect(reset?.usedRatio).toBe(0);
  });
});

describe('formatCountdown', () => {
  it('prints minutes, hours and days until an instant, and passed', () => {
    expect(formatCountdown(NOW, null)).toBe('');
    expect(formatCountdown(NOW, minutes(-1))).toBe('passed');
    expect(formatCountdown(NOW, minutes(42))).toBe('42m');
    expect(formatCountdown(NOW, minutes(125))).toBe('2h 5m');
    expect(formatCountdown(NOW, minutes(3 * 24 * 60 + 61))).toBe('3d 1h');
  });
});
