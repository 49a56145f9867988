import { canonicalRecords, firstDifference } from '../conformance/canonical-records';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';
import { repeatedFirstRequest } from './repeated-first-request';

/** When the first request is answered 500, collect() retries it and returns the same records as a plain run. */
export async function checkServerErrorRetry(options: UsageAdapterConformanceOptions): Promise<string[]> {
  if (!options.http) return ['this check needs options.http'];
  return withConformanceHarness(options, async (harness) => {
    const plain = await harness.collect();
    if (!plain.records) return [`plain run: ${describeFailure(plain)}`];
    const failedOnce = await harness.collect({ behaviour: 'server-error-once' });
    if (!failedOnce.records) return [`after one 500, ${describeFailure(failedOnce)}`];
    if (failedOnce.requests.length === 0) return ['collect() made no request to the fake server: does the config come from http.configForBaseUrl()?'];
    const problems: string[] = [];
    if (!repeatedFirstRequest(failedOnce.requests)) problems.push('the request answered 500 was never sent again');
    const difference = firstDifference(canonicalRecords(plain.records), canonicalRecords(failedOnce.records));
    if (difference) problems.push(`records after the retry differ from the plain run: ${difference}`);
    return problems;
  });
}
