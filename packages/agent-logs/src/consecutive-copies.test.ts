import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldConsecutiveCopies } from './consecutive-copies';
import { createMemoryState } from './memory-state';
import { UsageLedger } from './usage-ledger';
import type { UsageEvent } from './usage-event';

const HOUR_MS = 3_600_000;

const eventArbitrary = fc
  .record({
    key: fc.constantFrom('a', 'b', 'c'),
    variant: fc.constantFrom('', 'r1', 'r2'),
    loose: fc.boolean(),
    hour: fc.integer({ min: 0, max: 2 }),
    minute: fc.integer({ min: 0, max: 59 }),
    output: fc.integer({ min: 0, max: 5 }),
    model: fc.constantFrom('m1', 'm2'),
  })
  .map(
    ({ key, variant, loose, hour, minute, output, model }): UsageEvent => ({
      timestampMs: hour * HOUR_MS + minute * 60_000,
      model,
      labels: { session: key === 'a' ? 's1' : 's2' },
      tokens: [1, output, null, null, null, null, 1],
      key,
      variant,
      loose,
      rank: 1 + output,
    }),
  );

/** Everything a ledger would write, and return in the last cycle, after these cycles of files (each a list of events), with or without folding. */
async function ledgerAfter(cycles: UsageEvent[][][], fold: boolean) {
  const state = createMemoryState();
  let ledger = await UsageLedger.open(state, 'ns');
  let folded = 0;
  for (const [index, files] of cycles.entries()) {
    if (index > 0) {
      ledger.cells();
      ledger.commit();
      ledger = await UsageLedger.open(state, 'ns');
    }
    for (const events of files) {
      if (!fold) {
        for (const event of events) ledger.add(event);
        continue;
      }
      const folder = foldConsecutiveCopies((event) => ledger.add(event));
      for (const event of events) folder.emit(event);
      folder.flush();
      folded += folder.folded();
    }
  }
  // The order of an hour's cells is the order they were first seen, which folding may change; compare them as sets.
  const cells = ledger.cells().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  ledger.commit();
  const stored = state.entries().map(([key, value]) => {
    if (!key.startsWith('ns/hour/')) return [key, value];
    const hour = value as { c: Array<[string, number]>; e: string };
    const entries = (hour.e === '' ? [] : hour.e.split(';')).map((entry) => {
      const fields = entry.split(',');
      fields[4] = (hour.c[Number(fields[4])] as [string, number])[0];
      return fields.join(',');
    });
    return [key, { cells: [...hour.c].sort(), entries: entries.sort() }];
  });
  return { cells, state: Object.fromEntries(stored), folded };
}

describe('foldConsecutiveCopies', () => {
  it('leaves the ledger exactly as adding every event one by one does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(eventArbitrary, { maxLength: 12 }), { maxLength: 3 }), { minLength: 1, maxLength: 2 }), async (cycles) => {
        const direct = await ledgerAfter(cycles, false);
        const folded = await ledgerAfter(cycles, true);
        expect(folded.cells).toEqual(direct.cells);
        expect(folded.state).toEqual(direct.state);
      }),
      { numRuns: 1000 },
    );
  });

  it('folds only consecutive copies of one response in one hour, keeping the larger rank (the first of equals)', () => {
    const seen: UsageEvent[] = [];
    const folder = foldConsecutiveCopies((event) => seen.push(event));
    const base: UsageEvent = { timestampMs: 0, model: 'm', labels: {}, tokens: [1, 1, null, null, null, null, 1], key: 'k', variant: 'r', rank: 2 };
    folder.emit(base);
    folder.emit({ ...base, rank: 5, model: 'better' });
    folder.emit({ ...base, rank: 5, model: 'tie' });
    folder.emit({ ...base, loose: true });
    folder.emit({ ...base, variant: 'other' });
    folder.emit({ ...base, timestampMs: HOUR_MS });
    folder.emit({ ...base, key: 'x' });
    folder.flush();
    expect(seen.map((event) => [event.model, event.loose ?? false, event.variant, event.timestampMs, event.key])).toEqual([
      ['better', false, 'r', 0, 'k'],
      ['m', true, 'r', 0, 'k'],
      ['m', false, 'other', 0, 'k'],
      ['m', false, 'r', HOUR_MS, 'k'],
      ['m', false, 'r', 0, 'x'],
    ]);
    expect(folder.folded()).toBe(2);
  });
});
