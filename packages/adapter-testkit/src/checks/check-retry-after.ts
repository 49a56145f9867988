import { canonicalRecords, firstDifference } from '../conformance/canonical-records';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';
import { repeatedFirstRequest } from './repeated-first-request';

/** Timers may fire a few milliseconds early; a wait of 1 s is accepted from this many ms on. */
const RETRY_AFTER_FLOOR_MS = 990;

/**
 * When the first request is answered 429 with `Retry-After: 1`, collect()
 * waits at least that second, retries, and returns the same records as a
 * plain run (invariant 6).
 */
export async function checkRetryAfter(options: UsageAdapterConformanceOptions): Promise<string[]> {
  if (!options.http) return ['this check needs options.http'];
  return withConformanceHarness(options, async (harness) => {
    const plain = await harness.collect();
    if (!plain.records) return [`plain run: ${describeFailure(plain)}`];
    const limited = await harness.collect({ behaviour: 'rate-limit-once' });
    if (!limited.records) return [`after a 429 with Retry-After: 1, ${describeFailure(limited)}`];
    const problems: string[] = [];
    if (limited.requests.length === 0) return ['collect() made no request to the fake server: does the config come from http.configForBaseUrl()?'];
    if (!repeatedFirstRequest(limited.requests)) problems.push('the request answered 429 was never sent again');
    if (limited.elapsedMs < RETRY_AFTER_FLOOR_MS) {
      problems.push(`collect() finished ${Math.round(limited.elapsedMs)} ms after a 429 with Retry-After: 1; it must wait at least 1 s`);
    }
    const difference = firstDifference(canonicalRecords(plain.records), canonicalRecords(limited.records));
    if (difference) problems.push(`records after the retry differ from the plain run: ${difference}`);
    return problems;
  });
}
