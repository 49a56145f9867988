import { readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { prepareSource } from '../cycle/prepare-sources';
import { substituteEnv } from './substitute-env';
import { sourceSchema } from './worker-config-schema';

/**
 * The adapters' own problems (not installed, config block invalid) for every
 * enabled source that passes the worker's schema, so a config that is wrong in
 * several layers is reported in one round, not one layer per run.
 */
export async function adapterIssues(file: string, env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<string[]> {
  let sources: unknown;
  try {
    const document = yaml.load(await readFile(file, 'utf8'), { filename: file }) as { sources?: unknown } | null;
    sources = (substituteEnv(document ?? {}, env).value as { sources?: unknown }).sources;
  } catch {
    return []; // Unreadable or not YAML: already the whole report.
  }
  if (!Array.isArray(sources)) return [];
  const issues: string[] = [];
  for (const [index, raw] of sources.entries()) {
    const parsed = sourceSchema.safeParse(raw);
    if (!parsed.success || !parsed.data.enabled) continue;
    const result = await prepareSource(parsed.data, index, { directory: path.dirname(file), cwd });
    if ('issues' in result) for (const issue of result.issues) issues.push(issue);
  }
  return issues;
}
