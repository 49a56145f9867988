import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigValidationError } from '@utt/core';
import { createTrackerSink } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../create-tracker';
import { testPrices } from '../test-support/test-prices';
import { collectGarbageUntil } from '../test-support/collect-garbage';
import { openTestStore, STORE_BACKENDS } from '../test-support/test-store';
import type { BudgetBreach } from './budget-exceeded-error';
import { BudgetExceededError } from './budget-exceeded-error';
import { calendarPeriod } from './calendar-period';

const base = { application: 'billing-api', prices: testPrices(), flushOnExit: false } as const;
// 1000 output tokens of gpt-test cost $0.008.
const CALL_USD = 0.008;

/** A provider call as an integration makes it: admitted (worst case reserved), sent, then recorded. */
async function call(tracker: Tracker, options: { maxOutputTokens?: number; outputTokens: number; tags?: Record<string, string> }): Promise<'sent' | 'refused'> {
  let ticket: Awaited<ReturnType<Tracker['admit']>>;
  try {
    ticket = await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: options.maxOutputTokens, inputTokens: 0, tags: options.tags });
  } catch (error) {
    if (BudgetExceededError.isInstance(error)) return 'refused';
    throw error;
  }
  await sleep(1 + Math.random() * 15);
  tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 0, outputTokens: options.outputTokens, tags: options.tags }, ticket);
  return 'sent';
}

describe('calendar periods in the reporting time zone', () => {
  it('runs days and months from local midnight, DST included', () => {
    expect(calendarPeriod(new Date('2026-11-03T10:00:00Z'), 'day', 'UTC')).toEqual({ start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') });
    // Berlin leaves summer time on 2026-10-25: that day has 25 hours.
    expect(calendarPeriod(new Date('2026-10-25T12:00:00Z'), 'day', 'Europe/Berlin')).toEqual({ start: new Date('2026-10-24T22:00:00Z'), end: new Date('2026-10-25T23:00:00Z') });
    // 02:00 UTC on Nov 1 is still October 31 in New York.
    expect(calendarPeriod(new Date('2026-11-01T02:00:00Z'), 'month', 'America/New_York')).toEqual({ start: new Date('2026-10-01T04:00:00Z'), end: new Date('2026-11-01T04:00:00Z') });
  });

  it('starts a day whose midnight the clocks skip or repeat east of UTC at its first local instant (Beirut, Cairo, Gaza)', () => {
    // Beirut goes from 00:00 (UTC+2) to 01:00 (UTC+3) on 2026-03-29: the day runs from 01:00 local (22:00Z), 23 hours;
    // the day before ends there, not at 23:00 local (21:00Z) with its last hour counted on the 29th.
    expect(calendarPeriod(new Date('2026-03-29T12:00:00Z'), 'day', 'Asia/Beirut')).toEqual({ start: new Date('2026-03-28T22:00:00Z'), end: new Date('2026-03-29T21:00:00Z') });
    expect(calendarPeriod(new Date('2026-03-28T21:30:00Z'), 'day', 'Asia/Beirut')).toEqual({ start: new Date('2026-03-27T22:00:00Z'), end: new Date('2026-03-28T22:00:00Z') });
    expect(calendarPeriod(new Date('2026-04-24T12:00:00Z'), 'day', 'Africa/Cairo')).toEqual({ start: new Date('2026-04-23T22:00:00Z'), end: new Date('2026-04-24T21:00:00Z') });
    // Gaza went from 01:00 (UTC+3) back to 00:00 (UTC+2) on 2018-10-27: the day starts at the first midnight, 25 hours.
    expect(calendarPeriod(new Date('2018-10-26T21:30:00Z'), 'day', 'Asia/Gaza')).toEqual({ start: new Date('2018-10-26T21:00:00Z'), end: new Date('2018-10-27T22:00:00Z') });
    // Every day and month of three years in zones with DST changes at or near midnight starts at its first local instant.
    for (const timeZone of ['Asia/Beirut', 'Africa/Cairo', 'America/Santiago', 'America/Havana', 'Asia/Gaza', 'Asia/Tehran', 'Australia/Lord_Howe']) {
      const local = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
      for (const year of [2018, 2026]) {
        for (let day = 0; day < 365; day += 1) {
          const at = new Date(Date.UTC(year, 0, 1, 12) + day * 86_400_000);
          for (const period of ['day', 'month'] as const) {
            const { start, end } = calendarPeriod(at, period, timeZone);
            const starts = (instant: Date) => local.format(new Date(instant.getTime() - 1000)) !== local.format(instant);
            expect([timeZone, period, at.toISOString(), start <= at && at < end && starts(start) && starts(end)]).toEqual([timeZone, period, at.toISOString(), true]);
          }
        }
      }
    }
  });
});

describe('block budgets under concurrency', () => {
  it('never overspend when the worst case is known: 100 concurrent calls, room for 10', async () => {
    const tracker = await createTracker({ ...base, budgets: [{ period: 'day', limitUsd: 10 * CALL_USD, behavior: 'block' }] });
    const results = await Promise.all(Array.from({ length: 100 }, () => call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })));
    expect(results.filter((result) => result === 'sent')).toHaveLength(10);
    expect(tracker.totals().costUsd).toBeLessThanOrEqual(10 * CALL_USD + 1e-12);
    await tracker.shutdown();
  });

  it('admit more calls as settled ones turn out cheaper than their worst case, still within the limit', async () => {
    const tracker = await createTracker({ ...base, budgets: [{ period: 'day', limitUsd: 10 * CALL_USD, behavior: 'block' }] });
    let results: string[] = [];
    for (let wave = 0; wave < 5; wave += 1) {
      results = results.concat(await Promise.all(Array.from({ length: 20 }, () => call(tracker, { maxOutputTokens: 1000, outputTokens: 250 }))));
    }
    expect(results.filter((result) => result === 'sent').length).toBeGreaterThan(10);
    expect(tracker.totals().costUsd).toBeLessThanOrEqual(10 * CALL_USD + 1e-12);
    await tracker.shutdown();
  });

  it('overspend by at most one call when the worst case is unknown (no max tokens)', async () => {
    const limitUsd = 5 * CALL_USD + 0.001;
    const tracker = await createTracker({ ...base, budgets: [{ period: 'month', limitUsd, behavior: 'block' }] });
    // Without max tokens a call reserves 16,384 output tokens ($0.131), more than the room: the first is admitted as the one call over, holding the rest.
    const burst = await Promise.all(Array.from({ length: 50 }, () => call(tracker, { outputTokens: 1000 })));
    expect(burst.filter((result) => result === 'sent')).toHaveLength(1);
    const after: Array<'sent' | 'refused'> = [];
    for (let index = 0; index < 10; index += 1) after.push(await call(tracker, { outputTokens: 1000 }));
    // One at a time, the dearest call seen ($0.008) decides: 5 calls in all, within the limit.
    expect(burst.concat(after).filter((result) => result === 'sent')).toHaveLength(5);
    expect(tracker.totals().costUsd).toBeLessThanOrEqual(limitUsd);
    await tracker.shutdown();
  });

  it('does not make calls wait for each other when a worst case cannot be priced or capped (15 × 200 ms calls in about 200 ms)', async () => {
    const tracker = await createTracker({ ...base, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const slowCall = async (model: string, maxOutputTokens?: number) => {
      const ticket = await tracker.admit({ provider: 'openai', model, maxOutputTokens });
      await sleep(200);
      tracker.record({ provider: 'openai', model, inputTokens: 10, outputTokens: 100 }, ticket);
    };
    const started = Date.now();
    // An unpriced model, the first calls of a priced model without max tokens, and capped calls, all at once.
    await Promise.all([
      ...Array.from({ length: 5 }, () => slowCall('gpt-unpriced')),
      ...Array.from({ length: 5 }, () => slowCall('gpt-test')),
      ...Array.from({ length: 5 }, () => slowCall('gpt-test', 1000)),
    ]);
    // In line they took 2,000 ms or more (ten 200 ms calls one after another); at once about 200 ms (a loaded machine: below 1,000).
    expect(Date.now() - started).toBeLessThan(1000);
    expect(tracker.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
    await tracker.shutdown();
  });

  it("keeps the new day's spend and holds when a call started yesterday is recorded after midnight", async () => {
    let now = new Date('2026-11-03T23:59:58Z');
    const tracker = await createTracker({ ...base, now: () => now, budgets: [{ period: 'day', limitUsd: 2.5 * CALL_USD, behavior: 'block' }] });
    const started = now;
    // A long call admitted before midnight, and still streaming when the new day begins.
    const yesterdays = await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: 1000, inputTokens: 0 });
    now = new Date('2026-11-04T00:00:05Z');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    const inFlight = await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: 1000, inputTokens: 0 });
    // Yesterday's call ends: it counts toward yesterday (the ledger puts it there), and leaves today's figures alone.
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 0, outputTokens: 1000, occurredAt: started }, yesterdays);
    expect(tracker.budgetStatus().map((line) => [line.periodStart.toISOString(), Number(line.spentUsd.toFixed(9)), Number(line.reservedUsd.toFixed(9))])).toEqual([
      ['2026-11-04T00:00:00.000Z', CALL_USD, CALL_USD],
    ]);
    // Today: one call spent and one in flight; a third would pass $0.02.
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    inFlight.release();
    await tracker.shutdown();
  });

  it('never hangs on a ticket that is never released, and drops its hold after budgetHoldTimeoutMs', async () => {
    const tracker = await createTracker({ ...base, budgetHoldTimeoutMs: 150, budgets: [{ period: 'day', limitUsd: 1.5 * CALL_USD, behavior: 'block' }] });
    // A response whose body is never read: its ticket is neither recorded nor released.
    const leaked = await tracker.admit({ provider: 'openai', model: 'gpt-test' });
    const timeout = sleep(500).then(() => 'hung');
    expect(await Promise.race([call(tracker, { outputTokens: 1000 }), timeout])).toBe('refused');
    expect(await Promise.race([call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 }), timeout])).toBe('refused');
    await sleep(200);
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    leaked.release();
    await tracker.shutdown();
  });

  it('releases the hold of a ticket that is garbage collected unreleased', async () => {
    const tracker = await createTracker({ ...base, budgets: [{ period: 'day', limitUsd: 1.5 * CALL_USD, behavior: 'block' }] });
    await (async () => {
      await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: 1000 });
    })();
    expect(tracker.budgetStatus()[0]?.reservedUsd).toBeCloseTo(CALL_USD, 12);
    expect(await collectGarbageUntil(() => (tracker.budgetStatus()[0]?.reservedUsd ?? 1) < 1e-12)).toBe(true);
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    await tracker.shutdown();
  });

  it('gives every tag value its own limit', async () => {
    const tracker = await createTracker({ ...base, labelTags: ['tenant'], budgets: [{ period: 'day', limitUsd: CALL_USD * 1.5, behavior: 'block', scope: { tags: { tenant: '*' } } }] });
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000, tags: { tenant: 'acme' } })).toBe('sent');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000, tags: { tenant: 'acme' } })).toBe('refused');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000, tags: { tenant: 'globex' } })).toBe('sent');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    await tracker.shutdown();
  });
});

describe('notify, soft thresholds and raise', () => {
  it('tells onBudget once at the soft threshold and once at the limit, per period', async () => {
    let now = new Date('2026-11-03T10:00:00Z');
    const breaches: BudgetBreach[] = [];
    const tracker = await createTracker({
      ...base,
      now: () => now,
      budgets: [{ name: 'daily', period: 'day', limitUsd: 3 * CALL_USD, softThreshold: 0.5, behavior: 'notify' }],
      onBudget: (breach) => breaches.push(breach),
    });
    const spend = () => tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 });
    for (let index = 0; index < 5; index += 1) spend();
    expect(breaches.map((breach) => [breach.level, Number(breach.periodTotalUsd.toFixed(6))])).toEqual([
      ['soft', 0.016],
      ['hard', 0.032],
    ]);
    expect(breaches[1]).toMatchObject({ budget: 'daily', budgetType: 'day', limitUsd: 0.024, periodStart: new Date('2026-11-03T00:00:00Z') });
    now = new Date('2026-11-04T10:00:00Z');
    spend();
    spend();
    expect(breaches.map((breach) => breach.level)).toEqual(['soft', 'hard', 'soft']);
    await tracker.shutdown();
  });

  it('tells onBudget when a block budget starts refusing, once a period, and of each refusal of a per-call block budget', async () => {
    const breaches: BudgetBreach[] = [];
    const tracker = await createTracker({
      ...base,
      budgets: [
        { name: 'daily', period: 'day', limitUsd: 10 * CALL_USD, behavior: 'block' },
        { name: 'per-call', period: 'call', limitUsd: 3 * CALL_USD, behavior: 'block' },
      ],
      onBudget: (breach) => breaches.push(breach),
    });
    expect(await call(tracker, { maxOutputTokens: 4000, outputTokens: 1000 })).toBe('refused');
    expect(await call(tracker, { maxOutputTokens: 4000, outputTokens: 1000 })).toBe('refused');
    expect(breaches.map((breach) => [breach.budget, breach.budgetType, breach.level, breach.callCostUsd])).toEqual([
      ['per-call', 'call', 'hard', 4 * CALL_USD],
      ['per-call', 'call', 'hard', 4 * CALL_USD],
    ]);
    // A burst: the holds of the ten calls in flight refuse the other ten while nothing is spent yet; no notice for that.
    const burst = await Promise.all(Array.from({ length: 20 }, () => call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })));
    expect(burst.filter((result) => result === 'sent')).toHaveLength(10);
    expect(breaches).toHaveLength(2);
    // Spent to the limit: the next call is refused, and onBudget told, once.
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    expect(breaches.slice(2).map((breach) => [breach.budget, breach.behavior, breach.level, Number(breach.periodTotalUsd.toFixed(6))])).toEqual([['daily', 'block', 'hard', 11 * CALL_USD]]);
    await tracker.shutdown();
  });

  it('raise records the call, then throws with the period totals, the limit, the cost and the event', async () => {
    const tracker = await createTracker({ ...base, budgets: [{ period: 'month', limitUsd: 1.5 * CALL_USD, behavior: 'raise' }] });
    tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 });
    let caught: unknown;
    try {
      tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000, responseId: 'r2' });
    } catch (error) {
      caught = error;
    }
    expect(BudgetExceededError.isInstance(caught)).toBe(true);
    const error = caught as BudgetExceededError;
    expect(error).toMatchObject({ budgetType: 'month', limitUsd: 0.012, callCostUsd: 0.008 });
    expect(error.periodTotalUsd).toBeCloseTo(0.016, 9);
    expect(error.event?.responseId).toBe('r2');
    expect(tracker.totals().calls).toBe(2);
    await tracker.shutdown();
  });
});

describe('budgets over the ledger', () => {
  let handle: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    handle = await openTestStore({ name: 'pglite' });
  }, 60_000);
  afterAll(async () => {
    await handle?.dispose();
  });

  it("counts another process's flushed spend after a refresh, and this process's unflushed spend at once", async () => {
    const budgets = [{ period: 'day' as const, limitUsd: 3 * CALL_USD, behavior: 'block' as const, scope: { source: 'billing-api' } }];
    const options = { ...base, sink: createTrackerSink(handle.store), budgets, flushIntervalMs: 60_000, budgetRefreshIntervalMs: 60_000 };
    const first = await createTracker({ ...options, instance: 'a' });
    const second = await createTracker({ ...options, instance: 'b' });
    expect(await call(first, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    expect(await call(first, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    // Unflushed: the first process knows, the second cannot yet.
    expect(await call(first, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    expect(await call(first, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    await first.flush();
    await second.refreshBudgets();
    expect(await call(second, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    // After its own refresh the first process counts the flushed calls once, not twice.
    await first.refreshBudgets();
    expect(first.budgetStatus()[0]?.spentUsd).toBeCloseTo(3 * CALL_USD, 9);
    await first.shutdown();
    await second.shutdown();
  });

  it("blocks on a provider's UTC day row by its calendar date in the reporting time zone (America/Los_Angeles)", async () => {
    // The admin API's row named Nov 15 ($1) and the one named Nov 16 ($5): at 12:00 local time on Nov 15 only the first is today's.
    const row = (day: string, costUsd: string) => ({
      source_system: 'openai', source_instance: '', granularity: 'day' as const, bucket_start: new Date(`${day}T00:00:00Z`), provider: 'openai', model: 'gpt-test',
      account: '', api_key: '', user_id: '', labels: {}, input_tokens: 1, output_tokens: 1, cached_read_tokens: null, cached_write_tokens: null,
      cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: costUsd, cost_source: 'provider' as const, measurement_basis: 'provider_aggregate' as const,
    });
    await handle.store.writeSourceWindow({ source: 'openai-admin-tz', sourceSystem: 'openai', rows: [row('2026-11-15', '1'), row('2026-11-16', '5')] });
    const now = new Date('2026-11-15T20:00:00Z');
    const tracker = await createTracker({
      ...base,
      sink: createTrackerSink(handle.store),
      reportingTimeZone: 'America/Los_Angeles',
      budgets: [{ period: 'day', limitUsd: 1 + 2 * CALL_USD, behavior: 'block', scope: { provider: 'openai', model: 'gpt-test' } }],
      now: () => now,
      flushIntervalMs: 60_000,
    });
    // $1 of the ledger, so two $0.008 calls fit and the third does not; counting the 16th's row (it starts at 16:00 local on the 15th) would refuse the first.
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('sent');
    expect(await call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })).toBe('refused');
    expect(tracker.budgetStatus()[0]?.spentUsd).toBeCloseTo(1 + 2 * CALL_USD, 9);
    await tracker.shutdown();
  });

  it("refuses with the ledger's failure as the cause when the ledger cannot be read and budgetFailMode is 'closed'", async () => {
    const down = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const sink = { ...createTrackerSink(handle.store), readSpend: async () => Promise.reject(down) };
    const tracker = await createTracker({ ...base, sink, budgetFailMode: 'closed', budgets: [{ name: 'daily', period: 'day', limitUsd: 5, behavior: 'block' }] });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      // createTracker's read failed; the calls within budgetRefreshIntervalMs do not try again, and each carries that failure.
      const error = await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: 10 }).catch((caught: unknown) => caught);
      expect(BudgetExceededError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(
        "budget exceeded (day): refused before sending: the spend of daily could not be read from the ledger, and budgetFailMode is 'closed' (the cause is this error's cause)",
      );
      expect((error as Error).cause).toBe(down);
    }
    await tracker.shutdown();
  });

  it('rejects a tag budget whose tag is not a label dimension, naming the field', async () => {
    const error = await createTracker({ ...base, sink: createTrackerSink(handle.store), budgets: [{ period: 'day', limitUsd: 1, scope: { tags: { tenant: '*' } } }] }).catch((caught: unknown) => caught);
    expect(ConfigValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('budgets[0].scope.tags.tenant');
  });

  it('rejects a bad time zone and a bad budget with readable errors', async () => {
    await expect(createTracker({ ...base, reportingTimeZone: 'Mars/Olympus' })).rejects.toThrow(/reportingTimeZone/);
    await expect(createTracker({ ...base, budgets: [{ period: 'week' as 'day', limitUsd: 1 }] })).rejects.toThrow(/budgets\[0\]\.period/);
    await expect(createTracker({ ...base, budgets: [{ period: 'day', limitUsd: -1 }] })).rejects.toThrow(/budgets\[0\]\.limitUsd/);
  });
});

/** A provider's day row of `costUsd` in the ledger (what another source already spent that day). */
const dayRow = (day: string, costUsd: string) => ({
  source_system: 'openai', source_instance: '', granularity: 'day' as const, bucket_start: new Date(`${day}T00:00:00Z`), provider: 'openai', model: 'gpt-test',
  account: '', api_key: '', user_id: '', labels: {}, input_tokens: 1, output_tokens: 1, cached_read_tokens: null, cached_write_tokens: null,
  cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: costUsd, cost_source: 'provider' as const, measurement_basis: 'provider_aggregate' as const,
});

describe.each(STORE_BACKENDS)('budgets against spend already in the ledger ($name)', (backend) => {
  let handle: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    handle = await openTestStore(backend);
  }, 60_000);
  afterAll(async () => {
    await handle?.dispose();
  });
  // Each test its own day, so what one flushes is not another's ledger spend.
  const ledgerOn = async (day: string, costUsd: string) => {
    await handle.store.writeSourceWindow({ source: `admin-${day}`, sourceSystem: 'openai', rows: [dayRow(day, costUsd)] });
    const now = new Date(`${day}T12:00:00Z`);
    return { ...base, sink: createTrackerSink(handle.store), now: () => now, flushIntervalMs: 60_000, budgetRefreshIntervalMs: 60_000 };
  };

  it('raise throws on the first call when the ledger is already over the limit', async () => {
    const tracker = await createTracker({ ...(await ledgerOn('2026-10-05', '5')), budgets: [{ period: 'day', limitUsd: 1, behavior: 'raise' }] });
    let caught: unknown;
    try {
      tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 });
    } catch (error) {
      caught = error;
    }
    expect(BudgetExceededError.isInstance(caught)).toBe(true);
    expect((caught as BudgetExceededError).periodTotalUsd).toBeCloseTo(5 + CALL_USD, 9);
    await tracker.shutdown();
  });

  it('notify tells onBudget at the first call when the ledger is already over the limit', async () => {
    const breaches: BudgetBreach[] = [];
    const tracker = await createTracker({ ...(await ledgerOn('2026-10-06', '5')), budgets: [{ period: 'day', limitUsd: 1, behavior: 'notify' }], onBudget: (breach) => breaches.push(breach) });
    tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 });
    expect(breaches.map((breach) => breach.level)).toEqual(['hard']);
    expect(breaches[0]?.periodTotalUsd).toBeCloseTo(5 + CALL_USD, 9);
    await tracker.shutdown();
  });

  it("reads the new period's ledger spend when the period rolls over, before the first call of it is admitted", async () => {
    const options = await ledgerOn('2026-10-08', '5');
    let now = new Date('2026-10-07T23:59:00Z');
    const tracker = await createTracker({ ...options, now: () => now, budgets: [{ period: 'day', limitUsd: 1, behavior: 'raise' }] });
    tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 });
    now = new Date('2026-10-08T00:01:00Z');
    const ticket = await tracker.admit({ provider: 'openai', model: 'gpt-test', maxOutputTokens: 1000 });
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1000 }, ticket)).toThrow(/budget/i);
    await tracker.shutdown();
  });

  it('a block budget overspends by at most one call under concurrency, counting the ledger from the first call', async () => {
    const options = await ledgerOn('2026-10-09', '1');
    const limitUsd = 1 + 10 * CALL_USD;
    const tracker = await createTracker({ ...options, budgets: [{ period: 'day', limitUsd, behavior: 'block' }] });
    const capped = await Promise.all(Array.from({ length: 100 }, () => call(tracker, { maxOutputTokens: 1000, outputTokens: 1000 })));
    expect(capped.filter((result) => result === 'sent')).toHaveLength(10);
    await tracker.flush();
    await tracker.refreshBudgets();
    expect(tracker.budgetStatus()[0]?.spentUsd).toBeCloseTo(limitUsd, 9);
    await tracker.shutdown();

    // Without max tokens (worst case unknown), a second process over the same ledger: at most one call over.
    const second = await createTracker({ ...options, instance: 'second', budgets: [{ period: 'day', limitUsd: limitUsd + 5 * CALL_USD, behavior: 'block' }] });
    const uncapped = await Promise.all(Array.from({ length: 50 }, () => call(second, { outputTokens: 1000 })));
    expect(uncapped.filter((result) => result === 'sent').length).toBeGreaterThanOrEqual(1);
    for (let index = 0; index < 10; index += 1) await call(second, { outputTokens: 1000 });
    await second.flush();
    await second.refreshBudgets();
    expect(second.budgetStatus()[0]?.spentUsd).toBeLessThanOrEqual(limitUsd + 5 * CALL_USD + CALL_USD + 1e-9);
    expect(second.budgetStatus()[0]?.spentUsd).toBeGreaterThanOrEqual(limitUsd + 5 * CALL_USD - 1e-9);
    await second.shutdown();
  });
});
