import type { QuotaReading } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';

const T0 = new Date('2026-12-03T12:00:00Z');
const minutes = (count: number) => new Date(T0.getTime() + count * 60_000);

function reading(overrides: Partial<QuotaReading> = {}): QuotaReading {
  const observedAt = overrides.observedAt ?? T0;
  return {
    source: 'claude',
    provider: 'anthropic',
    account: 'dev@example.com',
    window: '5h',
    windowSeconds: 18_000,
    usedRatio: 0.42,
    rawValue: 42,
    rawUnit: 'percent',
    limit: null,
    remaining: null,
    resetsAt: new Date('2026-12-03T15:00:00Z'),
    status: 'allowed',
    obtainedVia: 'endpoint',
    detail: null,
    confirmedAt: observedAt,
    ...overrides,
    observedAt,
  };
}

describe.each(TEST_BACKENDS)('quota readings on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  it('stores an identical reading once within 30 minutes, moving confirmed_at; again after; a change at once', async () => {
    const write = (readings: QuotaReading[]) => store().writeQuotaReadings({ source: 'claude', sourceSystem: 'claude_code', readings, now: readings[0]?.observedAt });
    expect(await write([reading()])).toEqual({ stored: 1, confirmed: 0 });
    expect(await write([reading({ observedAt: minutes(10) })])).toEqual({ stored: 0, confirmed: 1 });
    expect(await write([reading({ observedAt: minutes(29) })])).toEqual({ stored: 0, confirmed: 1 });
    expect(await write([reading({ observedAt: minutes(31) })])).toEqual({ stored: 1, confirmed: 0 });
    expect(await write([reading({ observedAt: minutes(32), usedRatio: 0.43, rawValue: 43 })])).toEqual({ stored: 1, confirmed: 0 });
    // A replay of a reading already stored adds nothing.
    expect(await write([reading({ observedAt: minutes(32), usedRatio: 0.43, rawValue: 43 })])).toEqual({ stored: 0, confirmed: 1 });
    const rows = await store().listQuotaReadings();
    expect(rows.map((row) => [row.observedAt.toISOString(), row.confirmedAt.toISOString(), row.usedRatio])).toEqual([
      ['2026-12-03T12:00:00.000Z', '2026-12-03T12:29:00.000Z', 0.42],
      ['2026-12-03T12:31:00.000Z', '2026-12-03T12:31:00.000Z', 0.42],
      ['2026-12-03T12:32:00.000Z', '2026-12-03T12:32:00.000Z', 0.43],
    ]);
    const status = (await store().listStatus()).find((row) => row.source === 'quota:claude');
    expect(status?.status).toBe('ok');
  });

  it('keeps NULL as unknown and an over-quota ratio unclamped; latest per window', async () => {
    await store().writeQuotaReadings({
      source: 'claude',
      sourceSystem: 'claude_code',
      readings: [
        reading({ window: '7d', windowSeconds: 604_800, usedRatio: 1.05, rawValue: 105, resetsAt: null }),
        reading({ window: 'account', windowSeconds: null, usedRatio: null, rawValue: null, rawUnit: null, resetsAt: null, status: 'auth_required', observedAt: minutes(5) }),
        reading({ observedAt: minutes(-60), usedRatio: 0.1 }),
        reading({ observedAt: minutes(0), usedRatio: 0.2 }),
      ],
    });
    const latest = await store().latestQuotaReadings();
    expect(latest.map((row) => [row.window, row.usedRatio, row.resetsAt])).toEqual([
      ['5h', 0.2, new Date('2026-12-03T15:00:00Z')],
      ['7d', 1.05, null],
      ['account', null, null],
    ]);
    expect((await store().listQuotaReadings({ account: 'nobody' })).length).toBe(0);
    expect((await store().listQuotaReadings({ since: minutes(1) })).map((row) => row.window)).toEqual(['account']);
  });

  it('writes all or nothing: a bad reading rolls back the others, the state and the status', async () => {
    await expect(
      store().writeQuotaReadings({
        source: 'claude',
        sourceSystem: 'claude_code',
        readings: [reading(), reading({ window: '7d', windowSeconds: 0 })],
        state: { set: new Map([['gate', { at: 1 }]]), deleted: [] },
      }),
    ).rejects.toThrow(/window_seconds/);
    expect(await store().listQuotaReadings()).toEqual([]);
    expect((await store().listStatus()).find((row) => row.source === 'quota:claude')).toBeUndefined();
    expect((await store().loadSourceState('quota:claude')).size).toBe(0);
  });

  it('notifies once per crossing and once on recovery, across separate connections', async () => {
    // PGlite is single-process; on PostgreSQL the second store is a second connection pool.
    const url = process.env.UTT_TEST_DATABASE_URL;
    const second = store().client.kind === 'postgres' && url ? await openStore({ url, schema: store().schema, migrate: false }) : null;
    const stores = second ? [store(), second] : [store()];
    const sent: string[] = [];
    const observe = async (index: number, level: string, at: number) =>
      (
        await (stores[index % stores.length] ?? store()).transitionAlert({ rule: 'quota', subject: 'dev/5h', level, now: minutes(at) }, async (previous) => {
          sent.push(`${previous.level}->${level}`);
          return `went ${level}`;
        })
      ).notified;
    try {
      expect(await observe(0, 'ok', 0)).toBe(false);
      expect(await observe(1, 'warning', 1)).toBe(true);
      expect(await observe(0, 'warning', 2)).toBe(false);
      expect(await observe(1, 'critical', 3)).toBe(true);
      expect(await observe(0, 'ok', 4)).toBe(true);
      expect(await observe(1, 'ok', 5)).toBe(false);
      expect(sent).toEqual(['ok->warning', 'warning->critical', 'critical->ok']);
      // A failed send leaves the level unchanged, so the next run tries again.
      await expect(
        store().transitionAlert({ rule: 'quota', subject: 'dev/5h', level: 'critical', now: minutes(6) }, async () => {
          throw new Error('webhook down');
        }),
      ).rejects.toThrow('webhook down');
      expect((await store().listAlertStates())[0]?.level).toBe('ok');
      expect(await observe(0, 'critical', 7)).toBe(true);
      expect((await store().listAlertStates())[0]).toMatchObject({ level: 'critical', lastMessage: 'went critical' });
    } finally {
      if (second) await second.close();
    }
  });
});

