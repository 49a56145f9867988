import { type CollectOutcome, describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import { logLineStrings, stringsWithin } from '../conformance/strings-within';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

const MIN_CANARY_LENGTH = 8;

/**
 * Planted canary secrets never reach a record, a log line or a thrown error
 * (message, stack, cause, properties) — invariant 13. With `http`, a collect
 * against a server answering 401 must fail, and its error is searched too.
 */
export async function checkSecretsStayHidden(options: UsageAdapterConformanceOptions): Promise<string[]> {
  const canaries = options.canarySecrets ?? [];
  const short = canaries.findIndex((canary) => canary.length < MIN_CANARY_LENGTH);
  if (short >= 0) return [`canarySecrets[${short}] is shorter than ${MIN_CANARY_LENGTH} characters: plant a distinctive value`];
  if (canaries.length === 0) return [];

  return withConformanceHarness(options, async (harness) => {
    const problems: string[] = [];
    const plain = await harness.collect();
    if (plain.timedOut) problems.push(`plain run: ${describeFailure(plain)}`);
    for (const problem of leaks('plain run', plain, canaries)) problems.push(problem);
    if (options.http) {
      const unauthorized = await harness.collect({ behaviour: 'unauthorized' });
      if (unauthorized.timedOut) problems.push(`401 run: ${describeFailure(unauthorized)}`);
      else if (!unauthorized.failed) problems.push('401 run: collect() succeeded although every request was answered 401');
      for (const problem of leaks('401 run', unauthorized, canaries)) problems.push(problem);
    }
    return problems;
  });
}

function leaks(run: string, outcome: CollectOutcome, canaries: readonly string[]): string[] {
  const places: [string, string[]][] = [
    ['a record', stringsWithin(outcome.records)],
    ['a log line', outcome.logs.flatMap(logLineStrings)],
    ['the thrown error', stringsWithin(outcome.error)],
  ];
  const problems: string[] = [];
  canaries.forEach((canary, index) => {
    for (const [place, strings] of places) {
      if (strings.some((text) => text.includes(canary))) problems.push(`${run}: canarySecrets[${index}] appears in ${place}`);
    }
  });
  return problems;
}
