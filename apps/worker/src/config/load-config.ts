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

export type LoadConfigOptions = {
  /**
   * False for commands that only read or migrate the database: a source's
   * unset key variable is then no error, so a cron `utt watchdog` needs no
   * provider keys. Default true.
   */
  readonly requireSourceSecrets?: boolean;
};

/**
 * Reads, substitutes and validates a worker config. Every problem is reported
 * at once with its path (schema and missing variables together); values are
 * never echoed.
 */
export async function loadConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
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
  // Without zod's compiled fast path: it is generated (with `new Function`) the
  // first time an object schema parses, which costs a command that parses its
  // config once twice the parse itself (5 ms).
  const parsed = workerConfigSchema.safeParse(substituted.value, { jitless: true });
  const rawSources = (substituted.value as { sources?: unknown }).sources;

  // A missing variable matters only where it is used: a disabled source may
  // lack its key, and so may every source for a command that calls none.
  const issues = parsed.success ? [] : formatIssues(parsed.error.issues);
  for (const { path: where, variable } of substituted.missing) {
    const index = /^sources\[(\d+)\]/.exec(where)?.[1];
    if (index !== undefined) {
      if (options.requireSourceSecrets === false) continue;
      const source = Array.isArray(rawSources) ? (rawSources[Number(index)] as { enabled?: unknown } | undefined) : undefined;
      if (source?.enabled === false) continue;
    }
    issues.push(`${where}: environment variable ${variable} is not set`);
  }
  if (!parsed.success || issues.length > 0) {
    // An issue may quote the value it refuses, and that value may be a key used in the wrong place.
    const known = new Set([...secretValuesOf(env), ...substituted.secrets]);
    throw new ConfigValidationError({ file, issues: issues.map((issue) => redactSecrets(issue, known)) });
  }
  const config = parsed.data;

  if (env.DATABASE_URL) config.database.url = env.DATABASE_URL;
  const secrets = new Set([...secretValuesOf(env), ...substituted.secrets]);
  const databasePassword = passwordOfUrl(config.database.url);
  if (databasePassword) secrets.add(databasePassword);
  return { config, file, directory: path.dirname(file), secrets };
}
