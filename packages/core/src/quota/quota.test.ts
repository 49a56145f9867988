import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../errors/invalid-record-error';
import { classifyQuotaWindow } from './classify-quota-window';
import { quotaHistoricalPace } from './quota-historical-pace';
import { quotaPace } from './quota-pace';
import { parseQuotaReading, type QuotaReading } from './quota-reading';
import { quotaResets } from './quota-resets';
import { rotateQuotaAccounts } from './quota-rotation';
import { latestQuotaReadings, quotaSeverity, worstQuotaSeverity } from './quota-severity';
import { quotaUnderspend } from './quota-underspend';
import { isoWeekOf, quotaWeekly } from './quota-weekly';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = new Date('2026-12-03T12:00:00Z');

function reading(overrides: Partial<QuotaReading> & { usedRatio: number | null }): QuotaReading {
  const observedAt = overrides.observedAt ?? NOW;
  return {
    source: 'claude',
    provider: 'anthropic',
    account: 'a@example.com',
    window: '7d',
    windowSeconds: 604_800,
    rawValue: null,
    rawUnit: null,
    limit: null,
    remaining: null,
    resetsAt: null,
    status: 'allowed',
    obtainedVia: 'endpoint',
    detail: null,
    confirmedAt: observedAt,
    ...overrides,
    observedAt,
  };
}

describe('classifyQuotaWindow', () => {
  it('names windows by duration with slack, never by position', () => {
    expect(classifyQuotaWindow(18_000)).toBe('5h');
    expect(classifyQuotaWindow(299 * 60)).toBe('5h');
    expect(classifyQuotaWindow(604_800)).toBe('7d');
    expect(classifyQuotaWindow(10_080 * 60, 'GPT-5.3 Codex Spark')).toBe('7d_gpt_5_3_codex_spark');
    expect(classifyQuotaWindow(30 * 86_400)).toBe('month');
    expect(classifyQuotaWindow(60)).toBe('1m');
    expect(classifyQuotaWindow(5_400)).toBe('90m');
    expect(classifyQuotaWindow(null)).toBe('unknown');
  });
});

describe('parseQuotaReading', () => {
  it('fills nulls and keeps an over-quota ratio unclamped', () => {
    const parsed = parseQuotaReading(
      { provider: 'anthropic', account: 'team@example.com', window: '5h', usedRatio: 1.05, status: 'rejected', obtainedVia: 'log', observedAt: '2026-12-03T12:00:00Z' },
      { source: 'cc' },
    );
    expect(parsed.usedRatio).toBe(1.05);
    expect(parsed.resetsAt).toBeNull();
    expect(parsed.observedAt.toISOString()).toBe('2026-12-03T12:00:00.000Z');
  });

  it('refuses an account that is a token, naming the field and not echoing it', () => {
    const token = 'sk-ant-oat01-abcdefghijklmnop';
    let caught: unknown;
    try {
      parseQuotaReading(
        { provider: 'anthropic', account: token, window: '5h', usedRatio: 0.1, status: 'allowed', obtainedVia: 'endpoint', observedAt: NOW },
        { source: 'cc' },
      );
    } catch (error) {
      caught = error;
    }
    expect(InvalidRecordError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/account: looks like a token/);
    expect((caught as Error).message).not.toContain(token);
  });
});

describe('quotaSeverity', () => {
  it('maps ratio, status and expiry to OK/WARNING/CRITICAL/UNKNOWN', () => {
    expect(quotaSeverity(reading({ usedRatio: 0.5 }), NOW)).toBe('OK');
    expect(quotaSeverity(reading({ usedRatio: 0.8 }), NOW)).toBe('WARNING');
    expect(quotaSeverity(reading({ usedRatio: 0.5, status: 'warning' }), NOW)).toBe('WARNING');
    expect(quotaSeverity(reading({ usedRatio: 0.95 }), NOW)).toBe('CRITICAL');
    expect(quotaSeverity(reading({ usedRatio: 0.1, status: 'rejected' }), NOW)).toBe('CRITICAL');
    expect(quotaSeverity(reading({ usedRatio: null, status: 'auth_required' }), NOW)).toBe('UNKNOWN');
    expect(quotaSeverity(reading({ usedRatio: null }), NOW)).toBe('UNKNOWN');
    // The window reset an hour ago: replenished.
    expect(quotaSeverity(reading({ usedRatio: 1.2, resetsAt: new Date(NOW.getTime() - HOUR) }), NOW)).toBe('OK');
    expect(quotaSeverity(reading({ usedRatio: 0.85 }), NOW, { warning: 0.9, critical: 0.99 })).toBe('OK');
    expect(worstQuotaSeverity(['OK', 'UNKNOWN', 'WARNING'])).toBe('WARNING');
    expect(worstQuotaSeverity(['OK', 'UNKNOWN'])).toBe('UNKNOWN');
  });
});

describe('quotaPace', () => {
  // A 7-day window resetting in 4 days: 3 days elapsed, 3/7 expected.
  const current = reading({ usedRatio: 0.6, resetsAt: new Date(NOW.getTime() + 4 * DAY) });

  it('linear: 0.6 used after 3 days burns 0.2/day and runs out in 2 days, before the reset', () => {
    const pace = quotaPace(current, NOW);
    expect(pace?.expectedRatio).toBeCloseTo(0.428571, 5);
    expect(pace?.deltaRatio).toBeCloseTo(0.171429, 5);
    expect(pace?.ratePerHour).toBeCloseTo(0.2 / 24, 9);
    expect(pace?.rateBasis).toBe('window_average');
    expect(pace?.exhaustsAt?.toISOString()).toBe('2026-12-05T12:00:00.000Z');
    expect(pace?.runsOutBeforeReset).toBe(true);
  });

  it('a light user lasts to the reset (sign convention: negative delta is reserve)', () => {
    const pace = quotaPace(reading({ usedRatio: 0.15, resetsAt: new Date(NOW.getTime() + 4 * DAY) }), NOW);
    // 0.05/day leaves 0.85 for 17 days: after the reset.
    expect(pace?.deltaRatio).toBeCloseTo(0.15 - 3 / 7, 9);
    expect(pace?.exhaustsAt?.toISOString()).toBe('2026-12-20T12:00:00.000Z');
    expect(pace?.runsOutBeforeReset).toBe(false);
  });

  it('recent samples: +0.1 in the last 6 h gives 0.4 left in 24 h', () => {
    const earlier = reading({ usedRatio: 0.5, observedAt: new Date(NOW.getTime() - 6 * HOUR), resetsAt: new Date(NOW.getTime() + 4 * DAY + 60_000) });
    const pace = quotaPace(current, NOW, { history: [earlier, current] });
    expect(pace?.rateBasis).toBe('recent_samples');
    expect(pace?.exhaustsAt?.toISOString()).toBe('2026-12-04T12:00:00.000Z');
  });

  it('does not take a slope across a reset', () => {
    const previousWindow = reading({ usedRatio: 0.9, observedAt: new Date(NOW.getTime() - 5 * HOUR), resetsAt: new Date(NOW.getTime() - 4 * HOUR) });
    expect(quotaPace(current, NOW, { history: [previousWindow] })?.rateBasis).toBe('window_average');
  });

  it('is null without a reset (window not started), and exhausted now at ≥ 100 %', () => {
    expect(quotaPace(reading({ usedRatio: 0 }), NOW)).toBeNull();
    const over = quotaPace(reading({ usedRatio: 1.04, resetsAt: new Date(NOW.getTime() + DAY) }), NOW);
    expect(over?.exhaustsAt?.toISOString()).toBe(NOW.toISOString());
    expect(over?.runsOutBeforeReset).toBe(true);
  });
});

describe('quotaHistoricalPace', () => {
  // Five past weeks that each used half the quota evenly; this week is half over with 0.4 used.
  const resetNow = new Date(NOW.getTime() + 3.5 * DAY);
  const history: QuotaReading[] = [];
  for (let week = 1; week <= 5; week += 1) {
    const reset = resetNow.getTime() - week * 7 * DAY;
    const start = reset - 7 * DAY;
    for (const day of [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]) {
      history.push(reading({ usedRatio: (0.5 * day) / 7, observedAt: new Date(start + day * DAY), resetsAt: new Date(reset) }));
    }
  }
  const current = reading({ usedRatio: 0.4, resetsAt: resetNow });

  it('blends past weeks by recency: expected 0.4112, run-out chance 0.164, lasts', () => {
    // w_k = e^(−k/3), k = 1..5: Σw = 2.05030, Σw² = 1.01751, n_eff = 4.13142, λ = 0.35524;
    // typical at u = 0.5 is 0.25, so E = 0.35524·0.25 + 0.64476·0.5 = 0.41119.
    // No week runs out (0.4643 + 0.15 < 1): P = 0.5 / (2.05030 + 1) = 0.16392.
    const pace = quotaHistoricalPace(current, history, NOW);
    expect(pace?.weeks).toBe(5);
    expect(pace?.expectedRatio).toBeCloseTo(0.41119, 4);
    expect(pace?.runOutProbability).toBeCloseTo(0.16392, 4);
    expect(pace?.exhaustsAt).toBeNull();
  });

  it('weeks that hit the cap are extended through it: all five run out, 75 h from now', () => {
    // Each past week used 1.4× its quota evenly (0.1 at day 0.5 … capped at 1 from day 5.5);
    // this week is half over at 0.5, 0.2 below the typical 0.7.
    const capped: QuotaReading[] = [];
    for (let week = 1; week <= 5; week += 1) {
      const reset = resetNow.getTime() - week * 7 * DAY;
      for (const day of [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]) {
        capped.push(reading({ usedRatio: Math.min(1, (1.4 * day) / 7), observedAt: new Date(reset - 7 * DAY + day * DAY), resetsAt: new Date(reset) }));
      }
    }
    const pace = quotaHistoricalPace(reading({ usedRatio: 0.5, resetsAt: resetNow }), capped, NOW);
    // Every week: cap at u = 5.5/7, slope 7/5.5, so curve(1) − 0.2 = 1.0727 ≥ 1.
    // P = (2.05030 + 0.5) / (2.05030 + 1) = 0.83608; curve − 0.2 reaches 1 at u = 0.942857,
    // the grid point 159/168 = 0.946429: (0.946429 − 0.5) × 7 d = 75 h.
    expect(pace?.runOutProbability).toBeCloseTo(0.83608, 4);
    expect(pace?.exhaustsAt?.toISOString()).toBe('2026-12-06T15:00:00.000Z');
    // Expected use never exceeds the linear pace: min(0.5, 0.57105).
    expect(pace?.expectedRatio).toBeCloseTo(0.5, 9);
  });

  it('needs three complete weeks', () => {
    expect(quotaHistoricalPace(current, history.slice(0, 14), NOW)).toBeNull();
  });
});

describe('quotaWeekly', () => {
  it('peaks, averages and exhaustion stretches per ISO week', () => {
    const at = (iso: string) => new Date(iso);
    const readings = [
      reading({ usedRatio: 0.2, observedAt: at('2026-11-30T08:00:00Z') }), // Monday, W49
      reading({ usedRatio: 0.6, observedAt: at('2026-12-02T08:00:00Z') }),
      reading({ usedRatio: 1.0, observedAt: at('2026-12-04T08:00:00Z') }),
      reading({ usedRatio: 1.0, status: 'rejected', observedAt: at('2026-12-05T08:00:00Z') }),
      reading({ usedRatio: 0.1, observedAt: at('2026-12-07T09:00:00Z') }), // Monday, W50
      reading({ usedRatio: 0.3, observedAt: at('2026-12-08T09:00:00Z'), account: 'b@example.com' }),
      reading({ usedRatio: 1.1, window: '5h', windowSeconds: 18_000, observedAt: at('2026-12-08T10:00:00Z'), account: 'b@example.com' }),
    ];
    const { weeks, exhaustions } = quotaWeekly(readings);
    expect(weeks.map((week) => [week.isoWeek, week.account, week.peakRatio, week.averageRatio, week.readings])).toEqual([
      ['2026-W49', 'a@example.com', 1.0, 0.7, 4],
      ['2026-W50', 'a@example.com', 0.1, 0.1, 1],
      ['2026-W50', 'b@example.com', 0.3, 0.3, 1],
    ]);
    expect(exhaustions.map((event) => [event.account, event.window, event.startedAt.toISOString(), event.endedAt?.toISOString() ?? null])).toEqual([
      ['a@example.com', '7d', '2026-12-04T08:00:00.000Z', '2026-12-07T09:00:00.000Z'],
      ['b@example.com', '5h', '2026-12-08T10:00:00.000Z', null],
    ]);
    expect(isoWeekOf(at('2027-01-01T00:00:00Z'))).toBe('2026-W53');
  });
});

describe('rotation, resets and underspend', () => {
  const inHours = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
  const latest = latestQuotaReadings([
    // alpha: 5h has room but weekly is at 70 %: headroom 0.3 (weekly binds).
    reading({ account: 'alpha', window: '5h', windowSeconds: 18_000, usedRatio: 0.1, resetsAt: inHours(1) }),
    reading({ account: 'alpha', window: '7d', usedRatio: 0.7, resetsAt: inHours(100) }),
    // beta: 5h at 50 %, weekly 20 %: headroom 0.5.
    reading({ account: 'beta', window: '5h', windowSeconds: 18_000, usedRatio: 0.5, resetsAt: inHours(3) }),
    reading({ account: 'beta', window: '7d', usedRatio: 0.2, resetsAt: inHours(150) }),
    // gamma: weekly exhausted.
    reading({ account: 'gamma', window: '7d', usedRatio: 1.0, resetsAt: inHours(20) }),
    // delta: token expired.
    reading({ account: 'delta', window: 'account', windowSeconds: null, usedRatio: null, status: 'auth_required', detail: 'token expired' }),
    // epsilon: rejected though the number looks fine.
    reading({ account: 'epsilon', window: '5h', windowSeconds: 18_000, usedRatio: 0.3, status: 'rejected', resetsAt: inHours(2) }),
    // zeta: quota unknown.
    reading({ account: 'zeta', window: '5h', windowSeconds: 18_000, usedRatio: null, status: 'allowed' }),
    // eta: invalid key.
    reading({ account: 'eta', window: 'account', windowSeconds: null, usedRatio: null, status: 'invalid_key' }),
  ]);

  it('ranks by the smallest remaining share; unknown is neither full nor empty; blocked accounts last, with why', () => {
    const order = rotateQuotaAccounts(latest, NOW).map((entry) => [entry.account, entry.group, entry.bindingWindow]);
    expect(order).toEqual([
      ['beta', 'available', '5h'],
      ['alpha', 'available', '7d'],
      ['zeta', 'unknown', null],
      ['gamma', 'maxed', '7d'],
      ['epsilon', 'rejected', '5h'],
      ['delta', 'auth_required', null],
      ['eta', 'invalid_key', null],
    ]);
    expect(rotateQuotaAccounts(latest, NOW)[5]?.why).toBe('sign-in required: token expired');
  });

  it('lists resets within the horizon, soonest first', () => {
    expect(quotaResets(latest, NOW, 48 * HOUR).map((entry) => [entry.account, entry.window])).toEqual([
      ['alpha', '5h'],
      ['epsilon', '5h'],
      ['beta', '5h'],
      ['gamma', '7d'],
    ]);
  });

  it('raises underspend only with ≥ 40 % unused, < 2 h to reset and room in the weekly window', () => {
    const extra = [
      ...latest,
      // kappa: 60 % unused 30 min before reset; weekly 20 % after 48 h of 168 (expected 28.6 %): reserve → raised.
      reading({ account: 'kappa', window: '5h', windowSeconds: 18_000, usedRatio: 0.4, resetsAt: inHours(0.5) }),
      reading({ account: 'kappa', window: '7d', usedRatio: 0.2, resetsAt: inHours(120) }),
      // lambda: same 5h, but the weekly window is at 95 %: spending would strand nothing.
      reading({ account: 'lambda', window: '5h', windowSeconds: 18_000, usedRatio: 0.4, resetsAt: inHours(0.5) }),
      reading({ account: 'lambda', window: '7d', usedRatio: 0.95, resetsAt: inHours(120) }),
      // mu: 5h only, 90 % unused, 1.5 h left → raised (no weekly limit).
      reading({ account: 'mu', window: '5h', windowSeconds: 18_000, usedRatio: 0.1, resetsAt: inHours(1.5) }),
    ];
    // alpha (90 % of 5h unused, 1 h left) is not raised: its weekly 70 % after 68 h runs out in 29 h, before its reset.
    expect(quotaUnderspend(extra, NOW).map((entry) => [entry.account, Math.round(entry.unusedRatio * 100), entry.weeklyRemainingRatio])).toEqual([
      ['kappa', 60, 0.8],
      ['mu', 90, null],
    ]);
  });
});
