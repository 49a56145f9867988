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
  /** The config file's folder: relative paths in the source's config resolve against it. */
  readonly configDirectory: string;
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
    const names = sources.map(({ source }) => source.name);
    throw new ConfigValidationError({
      file: loaded.file,
      issues: [`no source named "${options.only}"; ${names.length > 0 ? `the sources are ${names.join(', ')}` : 'the config has no sources'}`],
    });
  }
  for (const { source, index } of sources) {
    if (options.only ? source.name !== options.only : !source.enabled) continue;
    const result = await prepareSource(source, index, { directory: loaded.directory, cwd: options.cwd });
    if ('issues' in result) for (const issue of result.issues) issues.push(issue);
    else prepared.push(result);
  }
  if (issues.length > 0) throw new ConfigValidationError({ file: loaded.file, issues });
  return prepared;
}

/** One source: its adapter loaded and its `config` block validated, or what is wrong with it. */
export async function prepareSource(
  source: SourceConfig,
  index: number,
  options: { directory: string; cwd: string },
): Promise<PreparedSource | { issues: string[] }> {
  const base = `sources[${index}]`;
  let adapter: UsageAdapterV1<unknown>;
  try {
    adapter = await loadAdapter(source.adapter, options);
  } catch (error) {
    return { issues: [`${base}.adapter: ${UttError.isInstance(error) ? error.message : String(error)}`] };
  }
  const granularity = source.granularity ?? adapter.capabilities.granularities[0];
  if (!granularity || !adapter.capabilities.granularities.includes(granularity)) {
    return { issues: [`${base}.granularity: ${adapter.id} supports ${adapter.capabilities.granularities.join(', ')}`] };
  }
  const validation = await validateWithSchema(adapter.configSchema, source.config, `${base}.config`);
  if (!validation.ok) return { issues: [...validation.issues] };
  return { source, adapter, adapterConfig: validation.value, granularity, configDirectory: options.directory };
}
