import { describeUsageAdapterV1Problems, isGranularity } from '@utt/core';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/**
 * The definition has the v1 shape the worker checks at load time
 * (`isUsageAdapterV1`): version 'v1', kebab-case id, snake_case sourceSystem,
 * a Standard Schema, a collect function and well-formed capabilities.
 */
export async function checkAdapterDefinition(options: Pick<UsageAdapterConformanceOptions, 'adapter' | 'entry'>): Promise<string[]> {
  const adapter: unknown = options.adapter;
  const problems = describeUsageAdapterV1Problems(adapter);
  if (options.entry !== undefined) {
    // The worker imports the package and takes its default export, nothing else.
    const fallback = options.entry.default;
    if (fallback === undefined) {
      problems.push('entry: the module has no default export; the worker loads `export default` (add `export { myAdapter as default }` to index.ts)');
    } else if (fallback !== adapter) {
      problems.push('entry: the default export is not the adapter under test');
    }
  }
  const capabilities = (adapter as { capabilities?: { granularities?: unknown; maxBackfillDays?: unknown } } | null)?.capabilities;
  // Newer copies of core report unknown granularities themselves; say it once.
  const reported = problems.some((problem) => problem.startsWith('capabilities.granularities'));
  if (!reported && Array.isArray(capabilities?.granularities)) {
    for (const granularity of capabilities.granularities) {
      if (!isGranularity(granularity)) problems.push(`capabilities.granularities: ${JSON.stringify(granularity)} is not hour, day or month`);
    }
  }
  const maxBackfillDays = capabilities?.maxBackfillDays;
  if (typeof maxBackfillDays === 'number' && !(Number.isFinite(maxBackfillDays) && maxBackfillDays > 0)) {
    problems.push('capabilities.maxBackfillDays must be a positive number or null');
  }
  return problems;
}
