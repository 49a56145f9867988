import { describeUsageAdapterV1Problems, isAlignedToBucket, isGranularity, parseUsageRecord, type UsageRecord } from '@utt/core';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/**
 * Records sit on bucket boundaries of a granularity the adapter declares and,
 * for a windowed adapter, inside the half-open window [start, end): the
 * worker must never write over buckets it did not ask for.
 */
export async function checkRecordWindow(options: UsageAdapterConformanceOptions): Promise<string[]> {
  const { window, adapter } = options;
  const shape = describeUsageAdapterV1Problems(adapter);
  if (shape.length > 0) return [`not a v1 adapter (see the definition check): ${shape.join('; ')}`];
  const declared: readonly string[] = adapter.capabilities.granularities;
  const problems: string[] = [];
  if (!(window.end > window.start)) problems.push('options.window: end is not after start');
  if (!isGranularity(window.granularity)) {
    problems.push('options.window.granularity is not hour, day or month');
  } else {
    if (!isAlignedToBucket(window.start, window.granularity) || !isAlignedToBucket(window.end, window.granularity)) {
      problems.push(`options.window is not aligned to ${window.granularity} buckets (the worker always aligns it)`);
    }
    if (adapter.capabilities.windowed && !declared.includes(window.granularity)) {
      problems.push(`options.window.granularity ${window.granularity} is not one the adapter declares (${declared.join(', ')})`);
    }
  }
  if (problems.length > 0) return problems;

  return withConformanceHarness(options, async (harness) => {
    const outcome = await harness.collect();
    if (!outcome.records) return [describeFailure(outcome)];
    const found: string[] = [];
    outcome.records.forEach((input, index) => {
      let record: UsageRecord;
      try {
        record = parseUsageRecord(input);
      } catch {
        return; // reported by the record schema check
      }
      if (!declared.includes(record.granularity)) {
        found.push(`record ${index}: granularity ${record.granularity} is not declared in capabilities.granularities (${declared.join(', ')})`);
      }
      if (adapter.capabilities.windowed && (record.bucket_start < window.start || record.bucket_start >= window.end)) {
        found.push(
          `record ${index}: bucket_start ${record.bucket_start.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`,
        );
      }
    });
    return found;
  });
}
