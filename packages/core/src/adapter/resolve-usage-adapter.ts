import { InvalidAdapterError } from '../errors/invalid-adapter-error';
import { UnsupportedAdapterVersionError } from '../errors/unsupported-adapter-version-error';
import { describeUsageAdapterV1Problems } from './is-usage-adapter-v1';
import type { UsageAdapterV1 } from './v1/usage-adapter-v1';

export const SUPPORTED_SPECIFICATION_VERSIONS = ['v1'] as const;

/**
 * Turns a loaded module (or its default export) into a usage adapter, or
 * throws an error that says what is wrong. A future v2 upgrades v1 here.
 */
export function resolveUsageAdapter(moduleOrAdapter: unknown, packageName: string): UsageAdapterV1<unknown> {
  const candidate = pickExport(moduleOrAdapter);
  const version = (candidate as { specificationVersion?: unknown } | null)?.specificationVersion;
  if (typeof version === 'string' && !(SUPPORTED_SPECIFICATION_VERSIONS as readonly string[]).includes(version)) {
    throw new UnsupportedAdapterVersionError({ packageName, version, supported: SUPPORTED_SPECIFICATION_VERSIONS });
  }
  const problems = describeUsageAdapterV1Problems(candidate);
  if (problems.length > 0) throw new InvalidAdapterError({ packageName, reason: problems.join('; ') });
  return candidate as UsageAdapterV1<unknown>;
}

function pickExport(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'default' in value && !('specificationVersion' in value)) {
    return (value as { default: unknown }).default;
  }
  return value;
}
