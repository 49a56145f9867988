import { createStagedState, StateJsonText, type UsageAdapterV1StateSelection } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { createMemoryState } from './memory-state';
import { hashKey } from './hash-key';
import { UsageLedger } from './usage-ledger';
import type { UsageEvent } from './usage-event';

const event = (overrides: Partial<UsageEvent>): UsageEvent => ({
  timestampMs: Date.parse('2026-03-01T10:15:00Z'),
  model: 'm',
  labels: { project: 'p' },
  tokens: [10, 5, null, null, null, null, 1],
  key: 'msg_1',
  variant: 'req_1',
  rank: 15,
  ...overrides,
});

describe('UsageLedger', () => {
  it('keeps the better copy: non-loose over loose, then the larger rank; a tie keeps the first', async () => {
    const ledger = await UsageLedger.open(createMemoryState(), 'ns');
    expect(ledger.add(event({ loose: true, variant: 'req_9', rank: 99, tokens: [90, 9, null, null, null, null, 1] }))).toBe('added');
    expect(ledger.add(event({ tokens: [10, 1, null, null, null, null, 1], rank: 11 }))).toBe('replaced');
    expect(ledger.add(event({}))).toBe('replaced');
    expect(ledger.add(event({ tokens: [1, 1, 1, 1, null, null, 1] }))).toBe('duplicate');
    expect(ledger.add(event({ variant: 'req_2', tokens: [1, 2, null, null, null, null, 1], rank: 3 }))).toBe('added');
    expect(ledger.cells().map((cell) => cell.tokens)).toEqual([[11, 7, null, null, null, null, 2]]);
  });

  it('stages each new hour as the JSON text JSON.stringify gives it (labels that need escaping too), an hour read back as a value', async () => {
    const stored = new Map<string, unknown>();
    const labels = { project: 'café "quoted" \\ back\nslash 😀' };
    const hourKey = (iso: string) => `ns/hour/${Date.parse(iso) / 3_600_000}`;
    for (let cycle = 0; cycle < 2; cycle += 1) {
      const staged = createStagedState(stored);
      const ledger = await UsageLedger.open(staged.state, 'ns');
      ledger.add(event({ key: `msg_${cycle}`, labels }));
      ledger.add(event({ key: `msg_b${cycle}`, model: 'other', timestampMs: Date.parse(`2026-03-01T1${2 + cycle}:00:00Z`), tokens: [1e21, 2, 3, null, null, null, 1], rank: 7 }));
      ledger.cells();
      ledger.commit();
      const hours = [...staged.changes().set].filter(([key]) => key.startsWith('ns/hour/'));
      expect(hours.map(([key]) => key).sort()).toEqual([hourKey('2026-03-01T10:00:00Z'), hourKey(`2026-03-01T1${2 + cycle}:00:00Z`)].sort());
      for (const [key, value] of hours) {
        if (cycle === 1 && key === hourKey('2026-03-01T10:00:00Z')) {
          // Read back from the state: staged as a value, its first copy's text kept.
          expect(StateJsonText.isInstance(value)).toBe(false);
          stored.set(key, value);
          continue;
        }
        if (!StateJsonText.isInstance(value)) throw new Error(`${key} was not staged as text`);
        expect(Buffer.from(value.json).toString('utf8')).toBe(JSON.stringify(value.value()));
        stored.set(key, value.value());
      }
      for (const [key, value] of staged.changes().set) if (!key.startsWith('ns/hour/')) stored.set(key, StateJsonText.isInstance(value) ? value.value() : value);
    }
    expect((stored.get(hourKey('2026-03-01T10:00:00Z')) as { e: string }).e.split(';')).toHaveLength(2);
    expect((stored.get(hourKey('2026-03-01T10:00:00Z')) as { c: Array<[string, number]> }).c).toEqual([[JSON.stringify(['m', labels]), 1]]);
  });

  it('stages a large read (more than 4,096 index changes) as the same JSON a state of plain values stores', async () => {
    const events = Array.from({ length: 6_000 }, (_, index) =>
      event({ key: `msg_${index}`, variant: `req_${index % 7}`, timestampMs: Date.parse('2026-03-01T00:00:00Z') + index * 97_000, labels: { project: index % 3 === 0 ? 'é "q"' : 'p' } }),
    );
    const cycle = async (state: Parameters<typeof UsageLedger.open>[0]) => {
      const ledger = await UsageLedger.open(state, 'ns');
      for (const each of events) ledger.add(each);
      ledger.cells();
      ledger.commit();
    };
    const plain = createMemoryState();
    await cycle(plain);
    const staged = createStagedState(new Map());
    await cycle(staged.state);
    const asStored = [...staged.changes().set].map(([key, value]) => [key, StateJsonText.isInstance(value) ? Buffer.from(value.json).toString('utf8') : JSON.stringify(value)]);
    expect(asStored.filter(([, value]) => value === undefined)).toEqual([]);
    const hoursAndShards = [...staged.changes().set].filter(([key]) => key.startsWith('ns/hour/') || key.startsWith('ns/ix/'));
    expect(hoursAndShards.length).toBeGreaterThan(3_000);
    expect(hoursAndShards.filter(([, value]) => !StateJsonText.isInstance(value))).toEqual([]);
    expect(asStored.sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))).toEqual(
      plain.entries().map(([key, value]) => [key, JSON.stringify(value)]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
    );
  });

  it('recomputes a touched hour from the state without the earlier events being given again', async () => {
    const state = createMemoryState();
    const first = await UsageLedger.open(state, 'ns');
    first.add(event({}));
    first.add(event({ key: 'msg_2', timestampMs: Date.parse('2026-03-01T11:00:00Z') }));
    first.cells();
    first.commit();
    const second = await UsageLedger.open(state, 'ns');
    second.add(event({ key: 'msg_3', tokens: [1, 1, 2, 3, 3, null, 1] }));
    expect(second.add(event({}))).toBe('duplicate');
    expect(second.cells()).toEqual([
      { bucketStart: new Date('2026-03-01T10:00:00Z'), model: 'm', labels: { project: 'p' }, tokens: [11, 6, 2, 3, 3, null, 2] },
    ]);
  });

  it('keeps in the state only the cells that hold a copy or were returned, whichever way a copy left', async () => {
    const state = createMemoryState();
    const ledger = await UsageLedger.open(state, 'ns');
    const at = (hour: number) => Date.parse(`2026-03-01T${hour}:15:00Z`);
    // msg_1 moves from 10:00 to 11:00 (a better copy there); msg_2 is replaced
    // within 12:00 by a copy of another model: each leaves a cell without
    // copies that was never returned. msg_3 and msg_4 keep theirs.
    ledger.add(event({ key: 'msg_1', model: 'moved', loose: true, timestampMs: at(10) }));
    ledger.add(event({ key: 'msg_3', model: 'kept', timestampMs: at(10) }));
    ledger.add(event({ key: 'msg_1', model: 'moved', timestampMs: at(11) }));
    ledger.add(event({ key: 'msg_2', model: 'old', rank: 1, timestampMs: at(12) }));
    ledger.add(event({ key: 'msg_4', model: 'kept', timestampMs: at(12) }));
    ledger.add(event({ key: 'msg_2', model: 'new', rank: 2, timestampMs: at(12) }));
    const cells = ledger.cells().map((cell) => `${cell.bucketStart.toISOString().slice(11, 13)} ${cell.model}`);
    expect(cells).toEqual(['10 kept', '11 moved', '12 kept', '12 new']);
    ledger.commit();
    const models = (hour: number) =>
      (state.get(`ns/hour/${at(hour) / 3_600_000 - 0.25}`) as { c: Array<[string, number]> }).c.map(([key]) => (JSON.parse(key) as [string])[0]);
    expect([models(10), models(11), models(12)]).toEqual([['kept'], ['moved'], ['kept', 'new']]);
    // The state reads back to the same cells.
    const again = await UsageLedger.open(state, 'ns');
    again.add(event({ key: 'msg_5', model: 'kept', timestampMs: at(12) }));
    expect(again.cells().map((cell) => `${cell.model} ${cell.tokens[6]}`)).toEqual(['kept 2', 'new 1']);
  });

  it('forgets hours before the retention and ignores copies that arrive for them later', async () => {
    const state = createMemoryState();
    const ledger = await UsageLedger.open(state, 'ns');
    ledger.add(event({}));
    ledger.cells();
    await ledger.prune(Date.parse('2026-03-02T00:00:00Z'));
    ledger.commit();
    expect(state.keys('ns/hour/')).toEqual([]);
    const later = await UsageLedger.open(state, 'ns');
    expect(later.add(event({ key: 'msg_new' }))).toBe('sealed');
    expect(later.add(event({ key: 'msg_new', timestampMs: Date.parse('2026-03-02T00:10:00Z') }))).toBe('added');
  });

  it('prunes in a later cycle, once the horizon passes hours committed earlier', async () => {
    const state = createMemoryState();
    const first = await UsageLedger.open(state, 'ns');
    first.add(event({}));
    first.cells();
    expect(await first.prune(Date.parse('2026-03-01T00:00:00Z'))).toBe(0);
    first.commit();
    const second = await UsageLedger.open(state, 'ns');
    expect(await second.prune(Date.parse('2026-03-01T10:00:00Z'))).toBe(0);
    second.commit();
    const third = await UsageLedger.open(state, 'ns');
    expect(await third.prune(Date.parse('2026-03-01T11:00:00Z'))).toBe(1);
    third.commit();
    expect(state.keys('ns/hour/')).toEqual([]);
  });

  it('keeps a rank that is not the token total through the state, and response keys only as hashes', async () => {
    const state = createMemoryState();
    const first = await UsageLedger.open(state, 'ns');
    first.add(event({ rank: 100 }));
    first.cells();
    first.commit();
    expect(JSON.stringify(state.entries())).not.toContain('msg_1');
    expect(JSON.stringify(state.entries())).not.toContain('req_1');
    const second = await UsageLedger.open(state, 'ns');
    // Rank 50 loses to the stored 100 (it would beat the stored copy's token total, 15).
    expect(second.add(event({ rank: 50, tokens: [40, 10, null, null, null, null, 1] }))).toBe('duplicate');
    expect(second.add(event({ rank: 101, tokens: [40, 10, null, null, null, null, 1] }))).toBe('replaced');
    expect(second.cells().map((cell) => cell.tokens)).toEqual([[40, 10, null, null, null, null, 1]]);
  });

  it('gives the same answers over an on-demand state, loading only what the events need', async () => {
    // A stored state that persists between cycles the way the worker does, and records what each cycle loads.
    const stored = new Map<string, unknown>();
    const loads: UsageAdapterV1StateSelection[] = [];
    const cycle = async (run: (ledger: UsageLedger) => Promise<unknown>) => {
      const staged = createStagedState(async (selection) => {
        loads.push(selection);
        return new Map([...stored].filter(([key]) => selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))));
      });
      const ledger = await UsageLedger.open(staged.state, 'ns');
      const result = await run(ledger);
      ledger.commit();
      const { set, deleted } = staged.changes();
      for (const key of deleted) stored.delete(key);
      for (const [key, value] of set) stored.set(key, JSON.parse(JSON.stringify(value)));
      return result;
    };
    const at = (hour: number) => Date.parse('2026-03-01T00:00:00Z') + hour * 3_600_000;
    const add = async (ledger: UsageLedger, events: UsageEvent[]) => {
      const hashed = events.map((one) => ({ event: one, key: hashKey(one.key), variant: one.variant ? hashKey(one.variant) : '' }));
      await ledger.load(hashed.map(({ event: one, key }) => ({ key, timestampMs: one.timestampMs })));
      return hashed.map(({ event: one, key, variant }) => ledger.addHashed(one, key, variant));
    };
    await cycle((ledger) => add(ledger, Array.from({ length: 50 }, (_, index) => event({ key: `msg_${index}`, timestampMs: at(index % 10) }))));
    loads.length = 0;
    // A later cycle: a better copy of msg_3 (stored in hour 3) arrives in hour 20, and a new response in hour 20.
    const cells = await cycle(async (ledger) => {
      const results = await add(ledger, [event({ key: 'msg_3', timestampMs: at(20), rank: 99, tokens: [90, 9, null, null, null, null, 1] }), event({ key: 'msg_new', timestampMs: at(20) })]);
      expect(results).toEqual(['replaced', 'added']);
      return ledger.cells();
    });
    expect(cells).toEqual([
      { bucketStart: new Date(at(3)), model: 'm', labels: { project: 'p' }, tokens: [40, 20, null, null, null, null, 4] },
      { bucketStart: new Date(at(20)), model: 'm', labels: { project: 'p' }, tokens: [100, 14, null, null, null, null, 2] },
    ]);
    const loadedKeys = loads.flatMap((selection) => selection.keys ?? []);
    expect(loads.flatMap((selection) => selection.prefixes ?? [])).toEqual([]);
    expect(loadedKeys.filter((key) => key.startsWith('ns/hour/')).sort()).toEqual([`ns/hour/${at(20) / 3_600_000}`, `ns/hour/${at(3) / 3_600_000}`].sort());
    // Pruning loads only the hours it forgets (and their shards), found through the meta's hour list.
    loads.length = 0;
    expect(await cycle((ledger) => ledger.prune(at(2)))).toBe(2);
    expect(loads.flatMap((selection) => selection.keys ?? []).filter((key) => key.startsWith('ns/hour/')).sort()).toEqual([`ns/hour/${at(0) / 3_600_000}`, `ns/hour/${at(1) / 3_600_000}`].sort());
    expect([...stored.keys()].filter((key) => key.startsWith('ns/hour/'))).toHaveLength(9);
    expect((stored.get('ns/meta') as { hours: number[] }).hours).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 20].map((hour) => at(hour) / 3_600_000));
  });
});
