import { InvalidRecordError, parseUsageRecord } from '@utt/core';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/**
 * collect() succeeds for the window, returns at least one record (otherwise
 * the other checks prove nothing), and every record passes core's
 * `parseUsageRecord`: types, required fields, bucket alignment, cost_usd with
 * cost_source, and the token-bucket invariants.
 */
export async function checkRecordSchema(options: UsageAdapterConformanceOptions): Promise<string[]> {
  return withConformanceHarness(options, async (harness) => {
    const outcome = await harness.collect();
    if (!outcome.records) return [describeFailure(outcome)];
    if (options.quotaOnly) {
      const problems: string[] = [];
      if (typeof options.adapter.collectQuota !== 'function') problems.push('quotaOnly: the adapter has no collectQuota');
      if (outcome.records.length > 0) problems.push(`quotaOnly: collect() returned ${outcome.records.length} records; a quota-only source returns none`);
      return problems;
    }
    if (outcome.records.length === 0) {
      return ['collect() returned no records for the window: choose a window and config (or fake answers) that produce some'];
    }
    const problems: string[] = [];
    outcome.records.forEach((record, index) => {
      try {
        parseUsageRecord(record, `record ${index}`);
      } catch (error) {
        problems.push(InvalidRecordError.isInstance(error) ? error.message : `record ${index}: ${String(error)}`);
      }
    });
    return problems;
  });
}
