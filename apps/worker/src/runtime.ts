import path from 'node:path';
import type { Logger } from '@utt/core';
import { openStore, type UsageStore } from '@utt/postgres';
import { type LoadedConfig, loadConfig, resolveConfigPath } from './config/load-config';
import { createConsoleLogger, type LogLevel } from './output/console-logger';

export type GlobalOptions = {
  readonly configFlag?: string;
  readonly logLevel: LogLevel;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
};

export type Runtime = {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
};

export async function loadRuntime(options: GlobalOptions): Promise<Runtime> {
  const file = resolveConfigPath(options.configFlag, options.env, options.cwd);
  const loaded = await loadConfig(file, options.env);
  const logger = createConsoleLogger({ level: options.logLevel, secrets: loaded.secrets });
  return { loaded, logger, env: options.env, cwd: options.cwd };
}

/** The configured PostgreSQL server, or the embedded PGlite folder (relative to the working directory). */
export async function openConfiguredStore(runtime: Runtime): Promise<UsageStore> {
  const database = runtime.loaded.config.database;
  return openStore({
    url: database.url || undefined,
    path: path.resolve(runtime.cwd, database.path),
    schema: database.schema,
    timeouts: {
      connectMs: database.connectTimeout,
      statementMs: database.statementTimeout,
      lockMs: database.lockTimeout,
      idleInTransactionMs: database.idleInTransactionTimeout,
    },
  });
}
