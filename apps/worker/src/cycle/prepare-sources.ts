import { ConfigValidationError, type UsageAdapterV1, UttError, validateWithSchema } from '@utt/core';
import type { LoadedConfig } from '../config/load-config';
import { loadAdapter } from '../config/load-adapter';
import type { SourceConfig } from '../config/worker-config-schema';

export type PreparedSource = {
  readonly source: SourceConfig;
  readonly adapter: UsageAdapterV1<unknown>;
  /** The source's `config` block, validated by the adapter's own schema. */
  readonly adapterConfig: unknown;
  readonly granularity: UsageAdapterV1<unknown>['capabilities']['granularities'][number];
};

/**
 * Loads the adapter of every enabled source and validates its config block,
 * reporting all problems together (exit code 1: nothing is collected from a
 * config that does not validate).
 */
export async function prepareSources(
  loaded: LoadedConfig,
  options: { cwd: string; only?: string },
): Promise<PreparedSource[]> {
  const issues: string[] = [];
  const prepared: PreparedSource[] = [];
  const sources = loaded.config.sources.map((source, index) => ({ source, index }));
  if (options.only && !sources.some(({ source }) => source.name === options.only)) {
    throw new ConfigValidationError({ file: loaded.file, issues: [`no source named "${options.only}"`] });
  }
  for (const { source, index } of sources) {
    if (options.only ? source.name !== options.only : !source.enabled) continue;
    const base = `sources[${index}]`;
    let adapter: UsageAdapterV1<unknown>;
    try {
      adapter = await loadAdapter(source.adapter, { directory: loaded.directory, cwd: options.cwd });
    } catch (error) {
      issues.push(`${base}.adapter: ${UttError.isInstance(error) ? error.message : String(error)}`);
      continue;
    }
    const granularity = source.granularity ?? adapter.capabilities.granularities[0];
    if (!granularity || !adapter.capabilities.granularities.includes(granularity)) {
      issues.push(`${base}.granularity: ${adapter.id} supports ${adapter.capabilities.granularities.join(', ')}`);
      continue;
    }
    const validation = await validateWithSchema(adapter.configSchema, source.config, `${base}.config`);
    if (!validation.ok) {
      for (const issue of validation.issues) issues.push(issue);
      continue;
    }
    prepared.push({ source, adapter, adapterConfig: validation.value, granularity });
  }
  if (issues.length > 0) throw new ConfigValidationError({ file: loaded.file, issues });
  return prepared;
}
