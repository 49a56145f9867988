import type { UsageAdapterV1 } from './v1/usage-adapter-v1';

/** A structural check (never instanceof), so adapters built against another copy of core pass. */
export function isUsageAdapterV1(value: unknown): value is UsageAdapterV1<unknown> {
  return describeUsageAdapterV1Problems(value).length === 0;
}

/** What is wrong with a candidate adapter, one line per problem. */
export function describeUsageAdapterV1Problems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const candidate = value as Record<string, unknown>;
  const problems: string[] = [];
  if (candidate.specificationVersion !== 'v1') problems.push(`specificationVersion is ${String(candidate.specificationVersion)}, expected 'v1'`);
  if (typeof candidate.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(candidate.id)) problems.push('id must be kebab-case');
  if (typeof candidate.sourceSystem !== 'string' || !/^[a-z][a-z0-9_]*$/.test(candidate.sourceSystem)) {
    problems.push('sourceSystem must be snake_case');
  }
  const schema = candidate.configSchema as { '~standard'?: { validate?: unknown } } | undefined;
  if (typeof schema?.['~standard']?.validate !== 'function') problems.push('configSchema is not a Standard Schema');
  if (typeof candidate.collect !== 'function') problems.push('collect is not a function');
  if (candidate.check !== undefined && typeof candidate.check !== 'function') problems.push('check is not a function');
  if (candidate.collectProviderCosts !== undefined && typeof candidate.collectProviderCosts !== 'function') {
    problems.push('collectProviderCosts is not a function');
  }
  if (candidate.collectQuota !== undefined && typeof candidate.collectQuota !== 'function') problems.push('collectQuota is not a function');
  const capabilities = candidate.capabilities as Record<string, unknown> | undefined;
  if (typeof capabilities !== 'object' || capabilities === null) {
    problems.push('capabilities missing');
  } else {
    if (!Array.isArray(capabilities.granularities) || capabilities.granularities.length === 0) {
      problems.push('capabilities.granularities must list at least one granularity');
    }
    if (typeof capabilities.windowed !== 'boolean') problems.push('capabilities.windowed must be a boolean');
    if (!['none', 'read', 'read_write'].includes(capabilities.cacheTokens as string)) {
      problems.push("capabilities.cacheTokens must be 'none', 'read' or 'read_write'");
    }
    if (!['provider', 'computed', 'fixed', 'none'].includes(capabilities.costSource as string)) {
      problems.push('capabilities.costSource is invalid');
    }
    if (!['exact', 'provider_aggregate', 'derived_estimate'].includes(capabilities.measurementBasis as string)) {
      problems.push('capabilities.measurementBasis is invalid');
    }
    if (
      capabilities.defaultSettleHours !== undefined &&
      (typeof capabilities.defaultSettleHours !== 'number' || !(capabilities.defaultSettleHours >= 0))
    ) {
      problems.push('capabilities.defaultSettleHours must be a number of hours >= 0');
    }
    if (capabilities.stateLoading !== undefined && !['eager', 'on-demand'].includes(capabilities.stateLoading as string)) {
      problems.push("capabilities.stateLoading must be 'eager' or 'on-demand'");
    }
    if (capabilities.usesPricer !== undefined && typeof capabilities.usesPricer !== 'boolean') {
      problems.push('capabilities.usesPricer must be a boolean');
    }
    if (capabilities.maxBackfillDays !== null && typeof capabilities.maxBackfillDays !== 'number') {
      problems.push('capabilities.maxBackfillDays must be a number or null');
    }
  }
  return problems;
}
