import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { TestHttpSettings } from '../create-test-context';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/** The HTTP settings of the deadline run: 300 ms per attempt, two attempts, a 1 s budget. */
export const DEADLINE_RUN_HTTP_SETTINGS = {
  deadlineMs: 300,
  maxAttempts: 2,
  retryBudgetMs: 1_000,
  backoffBaseMs: 10,
} as const satisfies TestHttpSettings;

/** How long collect() may take against a server that never answers, with the settings above. */
export const DEADLINE_RUN_LIMIT_MS = 2_500;

/**
 * Against a server that accepts connections and never answers, collect()
 * fails with an error within the deadline instead of hanging (invariant 6):
 * every call goes through `context.http`, or at least honours `context.signal`.
 */
export async function checkDeadline(options: UsageAdapterConformanceOptions): Promise<string[]> {
  if (!options.http) return ['this check needs options.http'];
  return withConformanceHarness(options, async (harness) => {
    const outcome = await harness.collect({
      behaviour: 'never-answer',
      http: DEADLINE_RUN_HTTP_SETTINGS,
      limitMs: DEADLINE_RUN_LIMIT_MS,
    });
    if (outcome.timedOut) {
      return [
        `${describeFailure(outcome)} against a server that never answers (per-attempt deadline ${DEADLINE_RUN_HTTP_SETTINGS.deadlineMs} ms): every HTTP call needs a deadline — use context.http`,
      ];
    }
    if (outcome.requests.length === 0) return ['collect() made no request to the fake server: does the config come from http.configForBaseUrl()?'];
    if (!outcome.failed) return ['collect() succeeded although the server never answered'];
    if (!(outcome.error instanceof Error)) return [`collect() rejected with a non-Error value: ${String(outcome.error)}`];
    return [];
  });
}
