import { describe, expect, it } from 'vitest';
import { createMemoryState } from './memory-state';
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
  it('keeps the better copy: non-loose over loose, then the larger rank; a tie keeps the first', () => {
    const ledger = new UsageLedger(createMemoryState(), 'ns');
    expect(ledger.add(event({ loose: true, variant: 'req_9', rank: 99, tokens: [90, 9, null, null, null, null, 1] }))).toBe('added');
    expect(ledger.add(event({ tokens: [10, 1, null, null, null, null, 1], rank: 11 }))).toBe('replaced');
    expect(ledger.add(event({}))).toBe('replaced');
    expect(ledger.add(event({ tokens: [1, 1, 1, 1, null, null, 1] }))).toBe('duplicate');
    expect(ledger.add(event({ variant: 'req_2', tokens: [1, 2, null, null, null, null, 1], rank: 3 }))).toBe('added');
    expect(ledger.cells().map((cell) => cell.tokens)).toEqual([[11, 7, null, null, null, null, 2]]);
  });

  it('recomputes a touched hour from the state without the earlier events being given again', () => {
    const state = createMemoryState();
    const first = new UsageLedger(state, 'ns');
    first.add(event({}));
    first.add(event({ key: 'msg_2', timestampMs: Date.parse('2026-03-01T11:00:00Z') }));
    first.cells();
    first.commit();
    const second = new UsageLedger(state, 'ns');
    second.add(event({ key: 'msg_3', tokens: [1, 1, 2, 3, 3, null, 1] }));
    expect(second.add(event({}))).toBe('duplicate');
    expect(second.cells()).toEqual([
      { bucketStart: new Date('2026-03-01T10:00:00Z'), model: 'm', labels: { project: 'p' }, tokens: [11, 6, 2, 3, 3, null, 2] },
    ]);
  });

  it('forgets hours before the retention and ignores copies that arrive for them later', () => {
    const state = createMemoryState();
    const ledger = new UsageLedger(state, 'ns');
    ledger.add(event({}));
    ledger.cells();
    ledger.prune(Date.parse('2026-03-02T00:00:00Z'));
    ledger.commit();
    expect(state.keys('ns/hour/')).toEqual([]);
    const later = new UsageLedger(state, 'ns');
    expect(later.add(event({ key: 'msg_new' }))).toBe('sealed');
    expect(later.add(event({ key: 'msg_new', timestampMs: Date.parse('2026-03-02T00:10:00Z') }))).toBe('added');
  });

  it('prunes in a later cycle, once the horizon passes hours committed earlier', () => {
    const state = createMemoryState();
    const first = new UsageLedger(state, 'ns');
    first.add(event({}));
    first.cells();
    expect(first.prune(Date.parse('2026-03-01T00:00:00Z'))).toBe(0);
    first.commit();
    const second = new UsageLedger(state, 'ns');
    expect(second.prune(Date.parse('2026-03-01T10:00:00Z'))).toBe(0);
    second.commit();
    const third = new UsageLedger(state, 'ns');
    expect(third.prune(Date.parse('2026-03-01T11:00:00Z'))).toBe(1);
    third.commit();
    expect(state.keys('ns/hour/')).toEqual([]);
  });

  it('keeps a rank that is not the token total through the state, and response keys only as hashes', () => {
    const state = createMemoryState();
    const first = new UsageLedger(state, 'ns');
    first.add(event({ rank: 100 }));
    first.cells();
    first.commit();
    expect(JSON.stringify(state.entries())).not.toContain('msg_1');
    expect(JSON.stringify(state.entries())).not.toContain('req_1');
    const second = new UsageLedger(state, 'ns');
    // Rank 50 loses to the stored 100 (it would beat the stored copy's token total, 15).
    expect(second.add(event({ rank: 50, tokens: [40, 10, null, null, null, null, 1] }))).toBe('duplicate');
    expect(second.add(event({ rank: 101, tokens: [40, 10, null, null, null, null, 1] }))).toBe('replaced');
    expect(second.cells().map((cell) => cell.tokens)).toEqual([[40, 10, null, null, null, null, 1]]);
  });
});

