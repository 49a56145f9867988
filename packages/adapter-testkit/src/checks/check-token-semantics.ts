import { parseUsageRecord, type UsageRecord } from '@utt/core';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/**
 * Token buckets keep their meaning and unknown stays NULL (invariant 2):
 * cached_write_1h <= cached_write, reasoning <= output; cache columns the
 * adapter says its source does not report (capabilities.cacheTokens) are null,
 * never 0; and an adapter that leaves cost to the worker (costSource 'none')
 * writes no cost.
 */
export async function checkTokenSemantics(options: UsageAdapterConformanceOptions): Promise<string[]> {
  return withConformanceHarness(options, async (harness) => {
    const { cacheTokens, costSource } = options.adapter.capabilities;
    const outcome = await harness.collect();
    if (!outcome.records) return [describeFailure(outcome)];
    const problems: string[] = [];
    outcome.records.forEach((input, index) => {
      let record: UsageRecord;
      try {
        record = parseUsageRecord(input);
      } catch {
        return; // reported by the record schema check
      }
      const at = `record ${index}`;
      const mustBeNull = (column: keyof UsageRecord, why: string) => {
        if (record[column] !== null) problems.push(`${at}: ${column} is ${String(record[column])}, expected null (${why})`);
      };
      if (cacheTokens === 'none') {
        mustBeNull('cached_read_tokens', "capabilities.cacheTokens is 'none'");
        mustBeNull('cached_write_tokens', "capabilities.cacheTokens is 'none'");
        mustBeNull('cached_write_1h_tokens', "capabilities.cacheTokens is 'none'");
      } else if (cacheTokens === 'read') {
        mustBeNull('cached_write_tokens', "capabilities.cacheTokens is 'read'");
        mustBeNull('cached_write_1h_tokens', "capabilities.cacheTokens is 'read'");
      }
      if (costSource === 'none') mustBeNull('cost_usd', "capabilities.costSource is 'none': the worker prices the record");
      if (record.cached_write_1h_tokens !== null && (record.cached_write_tokens === null || record.cached_write_1h_tokens > record.cached_write_tokens)) {
        problems.push(`${at}: cached_write_1h_tokens must be part of cached_write_tokens`);
      }
      if (record.reasoning_tokens !== null && record.output_tokens !== null && record.reasoning_tokens > record.output_tokens) {
        problems.push(`${at}: reasoning_tokens must be part of output_tokens`);
      }
    });
    return problems;
  });
}
