import { describe, expect, it } from 'vitest';
import { createEventEncoder, createLabelTable, EVENT_LABELS, SLOTS } from './encoded-events';
import type { UsageEvent } from './usage-event';

const event = (labels: Record<string, string>): UsageEvent => ({ timestampMs: 0, model: 'm', labels, tokens: [1, 1, null, null, null, null, 1], key: 'k', rank: 2 });

describe('encoded events', () => {
  it('sends a labels object once, with the first file that uses it, and the table gives every file the same object', () => {
    const encoder = createEventEncoder();
    const table = createLabelTable();
    const shared = { session: 's' };
    const files = [[shared, { session: 'a' }], [shared], [{ session: 'b' }, shared]].map((labelsOfFile) => {
      for (const labels of labelsOfFile) encoder.encode(event(labels));
      return encoder.take();
    });
    expect(files.map((file) => file.labels.length)).toEqual([2, 0, 1]);
    // As a worker's messages arrive: structured clones, so labels objects are new to this side.
    const arrived = files.map((file) => structuredClone(file));
    for (const file of arrived) table.take(file);
    const labelsOf = (file: (typeof arrived)[number]) => Array.from({ length: file.numbers.length / SLOTS }, (_, index) => file.labels[file.numbers[index * SLOTS + EVENT_LABELS] as number]);
    const [first, second, third] = arrived.map(labelsOf);
    expect(first).toEqual([{ session: 's' }, { session: 'a' }]);
    expect(second?.[0]).toBe(first?.[0]);
    expect(third?.[0]).toEqual({ session: 'b' });
    expect(third?.[1]).toBe(first?.[0]);
  });

  it('numbers labels afresh after many, and refuses files out of order', () => {
    const encoder = createEventEncoder();
    const table = createLabelTable();
    const taken: Array<ReturnType<typeof encoder.take>> = [];
    for (let file = 0; file < 6; file += 1) {
      for (let index = 0; index < 1000; index += 1) encoder.encode(event({ session: `${file}-${index}` }));
      taken.push(encoder.take());
    }
    expect(taken.map((file) => file.labelBase)).toEqual([0, 1000, 2000, 3000, 4000, 0]);
    expect(() => createLabelTable().take(structuredClone(taken[2] as (typeof taken)[number]))).toThrow(/out of order/);
    for (const file of taken) table.take(file);
    expect(taken[4]?.labels[4999]).toEqual({ session: '4-999' });
    expect(taken[5]?.labels[999]).toEqual({ session: '5-999' });
    expect(taken[5]?.labels).toHaveLength(1000);
  });
});
