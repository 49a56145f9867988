import { parseUsageRecord, type UsageRecordInput } from '@utt/core';

/**
 * Records as sorted, key-order-independent JSON strings, so two runs compare
 * as deep-equal whatever order the batches came in. Defaults are applied first
 * (a left-out counter equals an explicit null).
 */
export function canonicalRecords(records: readonly UsageRecordInput[]): string[] {
  return records.map((record) => stableJson(normalise(record))).sort();
}

/** The first difference between two canonical record lists, or undefined when equal. */
export function firstDifference(expected: readonly string[], actual: readonly string[]): string | undefined {
  if (expected.length !== actual.length) return `expected ${expected.length} records, got ${actual.length}`;
  for (let index = 0; index < expected.length; index++) {
    if (expected[index] !== actual[index]) return `record ${expected[index]} became ${actual[index]}`;
  }
  return undefined;
}

function normalise(record: UsageRecordInput): unknown {
  try {
    return parseUsageRecord(record);
  } catch {
    return record;
  }
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}
