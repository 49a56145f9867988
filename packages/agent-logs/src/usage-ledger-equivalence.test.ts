import { createStagedState, StateJsonText } from '@utt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageLedger as ReferenceLedger } from './__fixtures__/reference-ledger/usage-ledger';
import { createEventEncoder, createLabelTable } from './encoded-events';
import { hashKey } from './hash-key';
import { createMemoryState } from './memory-state';
import { UsageLedger } from './usage-ledger';
import type { UsageEvent } from './usage-event';

const HOUR_MS = 3_600_000;
const labelSets = [{ session: 's1' }, { session: 's2', project: 'p' }, {}];

const eventArbitrary = fc
  .record({
    key: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    variant: fc.constantFrom('', 'r1', 'r2'),
    loose: fc.boolean(),
    hour: fc.integer({ min: 0, max: 4 }),
    minute: fc.integer({ min: 0, max: 59 }),
    tokens: fc.array(fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }), { minLength: 7, maxLength: 7 }),
    rankOffset: fc.constantFrom(0, 0, 0, 1, -1, 0.5),
    model: fc.constantFrom('m1', 'm2'),
    labels: fc.integer({ min: 0, max: labelSets.length - 1 }),
  })
  .map(({ key, variant, loose, hour, minute, tokens, rankOffset, model, labels }): UsageEvent => {
    const total = (tokens[0] ?? 0) + (tokens[1] ?? 0) + (tokens[2] ?? 0) + (tokens[3] ?? 0);
    return {
      timestampMs: hour * HOUR_MS + minute * 60_000,
      model,
      labels: labelSets[labels] as Record<string, string>,
      tokens: tokens as UsageEvent['tokens'],
      key,
      variant,
      loose,
      // Mostly the token total (as Claude Code's), sometimes not: the state then stores the rank.
      rank: total + rankOffset,
    };
  });

/** How a cycle adds its events: one by one (add), hashed ahead as load() takes them (addHashed), or as a worker thread posts them (addEncoded, new ledger only). */
type Way = 'add' | 'hashed' | 'encoded';
type Cycle = { files: UsageEvent[][]; way: Way; pruneBeforeHour: number | null };

const cycleArbitrary = fc.record({
  files: fc.array(fc.array(eventArbitrary, { maxLength: 10 }), { maxLength: 3 }),
  way: fc.constantFrom<Way>('add', 'hashed', 'encoded'),
  pruneBeforeHour: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 4, nil: null }),
});

type Ledger = Pick<UsageLedger, 'add' | 'addHashed' | 'load' | 'cells' | 'prune' | 'commit' | 'touchedHours'>;

/**
 * Runs the cycles as the worker does (an on-demand state: each cycle loads what
 * it asks for from the stored JSON, stages its changes, which are stored as
 * JSON text), and records every add's result, the cells and the stored state.
 */
async function run(open: (state: Parameters<typeof UsageLedger.open>[0]) => Promise<Ledger>, cycles: Cycle[], reference: boolean) {
  const stored = new Map<string, string>();
  const trace: unknown[] = [];
  for (const cycle of cycles) {
    const staged = createStagedState(async (selection) => {
      const out = new Map<string, unknown>();
      for (const [key, text] of stored) {
        if (selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))) out.set(key, JSON.parse(text));
      }
      return out;
    });
    const ledger = await open(staged.state);
    const events = cycle.files.flat();
    const hashed = events.map((event) => ({ event, key: hashKey(event.key), variant: event.variant ? hashKey(event.variant) : '' }));
    await ledger.load(hashed.map(({ event, key }) => ({ key, timestampMs: event.timestampMs })));
    const results: string[] = [];
    if (cycle.way === 'add') for (const event of events) results.push(ledger.add(event));
    else if (cycle.way === 'hashed' || reference) for (const { event, key, variant } of hashed) results.push(ledger.addHashed(event, key, variant));
    else {
      const encoder = createEventEncoder();
      const labelTable = createLabelTable();
      for (const file of cycle.files) {
        for (const event of file) encoder.encode(event);
        const encoded = encoder.take();
        labelTable.take(encoded);
        (ledger as UsageLedger).addEncoded(encoded, (result) => results.push(result));
      }
    }
    const cells = ledger.cells();
    const touched = ledger.touchedHours();
    const pruned = cycle.pruneBeforeHour === null ? null : await ledger.prune(cycle.pruneBeforeHour * HOUR_MS);
    ledger.commit();
    const { set, deleted } = staged.changes();
    for (const key of deleted) stored.delete(key);
    // As the store writes them: a value staged as JSON text as it is (so it must be JSON.stringify's text, byte for byte).
    for (const [key, value] of set) stored.set(key, StateJsonText.isInstance(value) ? Buffer.from(value.json).toString('utf8') : JSON.stringify(value));
    trace.push({ results, cells, touched, pruned, state: [...stored].sort((a, b) => (a[0] < b[0] ? -1 : 1)) });
  }
  return trace;
}

describe('UsageLedger (key and copy tables) against the ledger of string maps it replaced', () => {
  it('gives the same results, cells and stored state, byte for byte, cycle after cycle', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cycleArbitrary, { minLength: 1, maxLength: 4 }), async (cycles) => {
        const expected = await run((state) => ReferenceLedger.open(state, 'ns'), cycles, true);
        const actual = await run((state) => UsageLedger.open(state, 'ns'), cycles, false);
        expect(actual).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  }, 120_000);

  it('reads the state the earlier ledger wrote, and the earlier ledger reads its state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cycleArbitrary, { minLength: 2, maxLength: 4 }), async (cycles) => {
        const expected = await run((state) => ReferenceLedger.open(state, 'ns'), cycles, true);
        // Cycles taking turns: each ledger goes on from the state the other left.
        let turn = 0;
        const mixed = await run(
          (state) => {
            turn += 1;
            return turn % 2 === 1 ? ReferenceLedger.open(state, 'ns') : UsageLedger.open(state, 'ns');
          },
          cycles.map((cycle, index) => (index % 2 === 0 && cycle.way === 'encoded' ? { ...cycle, way: 'hashed' as const } : cycle)),
          false,
        );
        expect(mixed).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  }, 120_000);

  it('writes back an hour whose stored counters are not plain ASCII (a state edited by hand) as the earlier ledger did', async () => {
    const run = async (open: typeof UsageLedger.open) => {
      const key = hashKey('msg_1');
      const state = createMemoryState([
        ['ns/meta', { sealedBeforeHour: null, hours: [10] }],
        ['ns/hour/10', { c: [['["m",{}]', 1]], e: `${key},,0,,0,1,2,\u00e9,,,,1` }],
        ['ns/ix/000', ''],
      ]);
      const ledger = await open(state, 'ns');
      ledger.add({ timestampMs: 10 * HOUR_MS + 5, model: 'm', labels: {}, tokens: [1, 1, null, null, null, null, 1], key: 'msg_2', rank: 2 });
      ledger.cells();
      ledger.commit();
      return state.entries();
    };
    const written = await run(UsageLedger.open.bind(UsageLedger));
    expect(written).toEqual(await run(ReferenceLedger.open.bind(ReferenceLedger) as unknown as typeof UsageLedger.open));
    expect(JSON.stringify(written)).toContain('\u00e9');
  });
});
