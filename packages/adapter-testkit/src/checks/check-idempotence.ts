import { parseUsageRecord, type UsageRecordInput, usageRowKey } from '@utt/core';
import { canonicalRecords, firstDifference } from '../conformance/canonical-records';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/**
 * Collecting the same window twice gives deep-equal records (invariant 1: the
 * worker re-collects open and settling buckets every cycle and replaces them),
 * and no two records of one run share a conflict key (an upsert cannot touch
 * the same row twice in one statement).
 */
export async function checkIdempotence(options: UsageAdapterConformanceOptions): Promise<string[]> {
  return withConformanceHarness(options, async (harness) => {
    const first = await harness.collect();
    if (!first.records) return [`first run: ${describeFailure(first)}`];
    const second = await harness.collect();
    if (!second.records) return [`second run: ${describeFailure(second)}`];
    const problems = duplicateKeys(first.records, options.adapter.sourceSystem);
    const difference = firstDifference(canonicalRecords(first.records), canonicalRecords(second.records));
    if (difference) problems.push(`a second collect of the same window differs: ${difference}`);
    return problems;
  });
}

function duplicateKeys(records: readonly UsageRecordInput[], sourceSystem: string): string[] {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  records.forEach((input, index) => {
    let key: string;
    try {
      key = usageRowKey({ ...parseUsageRecord(input), source_system: sourceSystem });
    } catch {
      return; // reported by the record schema check
    }
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, index);
    else problems.push(`records ${earlier} and ${index} have the same conflict key ${key}`);
  });
  return problems;
}
