import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigValidationError, formatIssues, redactSecrets } from '@utt/core';
import yaml from 'js-yaml';
import { ConfigTooLargeError, passwordOfUrl, secretValuesOf, substituteEnv } from './substitute-env';
import { type WorkerConfig, workerConfigSchema } from './worker-config-schema';

export type LoadedConfig = {
  readonly config: WorkerConfig;
  /** The config file, absolute. */
  readonly file: string;
  /** Folder of the config file: relative adapter paths and file paths resolve from here. */
  readonly directory: string;
  readonly secrets: ReadonlySet<string>;
};

/** `--config`, else `UTT_CONFIG`, else `utt.config.yaml` in the working directory. */
export function resolveConfigPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return path.resolve(cwd, flag ?? env.UTT_CONFIG ?? 'utt.config.yaml');
}

/**
 * Reads, substitutes and validates a worker config. Every problem is reported
 * at once with its path; values are never echoed.
 */
export async function loadConfig(file: string, env: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigValidationError({
      file,
      issues: [code === 'ENOENT' ? 'file not found (pass --config FILE or set UTT_CONFIG)' : `cannot read: ${code ?? String(error)}`],
    });
  }
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file }) ?? {};
  } catch (error) {
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? 'invalid YAML';
    throw new ConfigValidationError({ file, issues: [mark ? `line ${mark.line + 1}, column ${mark.column + 1}: ${reason}` : reason] });
  }

  let substituted: ReturnType<typeof substituteEnv>;
  try {
    substituted = substituteEnv(document, env);
  } catch (error) {
    if (error instanceof ConfigTooLargeError) throw new ConfigValidationError({ file, issues: [error.message] });
    throw error;
  }
  const parsed = workerConfigSchema.safeParse(substituted.value);
  if (!parsed.success) {
    // An issue may quote the value it refuses, and that value may be a key used in the wrong place.
    const known = new Set([...secretValuesOf(env), ...substituted.secrets]);
    throw new ConfigValidationError({ file, issues: formatIssues(parsed.error.issues).map((issue) => redactSecrets(issue, known)) });
  }
  const config = parsed.data;

  // A missing variable matters only where it is used: a disabled source may lack its key.
  const issues = substituted.missing
    .filter(({ path: where }) => {
      const index = /^sources\[(\d+)\]/.exec(where)?.[1];
      return index === undefined || config.sources[Number(index)]?.enabled !== false;
    })
    .map(({ path: where, variable }) => `${where}: environment variable ${variable} is not set`);
  if (issues.length > 0) throw new ConfigValidationError({ file, issues });

  if (env.DATABASE_URL) config.database.url = env.DATABASE_URL;
  const secrets = new Set([...secretValuesOf(env), ...substituted.secrets]);
  const databasePassword = passwordOfUrl(config.database.url);
  if (databasePassword) secrets.add(databasePassword);
  return { config, file, directory: path.dirname(file), secrets };
}
