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
  /** The command being run (`import`), shown to another process that has to wait for the embedded database. */
  readonly command?: string;
};

export type Runtime = {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly command?: string;
};

export async function loadRuntime(options: GlobalOptions): Promise<Runtime> {
  const file = resolveConfigPath(options.configFlag, options.env, options.cwd);
  const loaded = await loadConfig(file, options.env);
  const logger = createConsoleLogger({ level: options.logLevel, secrets: loaded.secrets });
  return { loaded, logger, env: options.env, cwd: options.cwd, command: options.command };
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
    embeddedLock: {
      command: runtime.command ? `utt ${runtime.command}` : 'utt',
      waitMs: database.lockWait,
      onWait: (message) => runtime.logger.warn(`waiting: ${message}`),
    },
  });
}
