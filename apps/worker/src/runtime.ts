import path from 'node:path';
import { ConfigValidationError, type Logger } from '@utt/core';
import { adapterIssues } from './config/adapter-issues';
import { openStore, type UsageStore } from '@utt/postgres';
import { type LoadedConfig, loadConfig, resolveConfigPath } from './config/load-config';
import { createConsoleLogger, type LogLevel } from './output/console-logger';

export type GlobalOptions = {
  readonly configFlag?: string;
  readonly logLevel: LogLevel;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Whether the command calls providers: then unset source key variables are
   * errors, and a config error also lists the adapters' own problems.
   * Default true.
   */
  readonly needsSourceCredentials?: boolean;
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
  const needsSources = options.needsSourceCredentials !== false;
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(file, options.env, { requireSourceSecrets: needsSources });
  } catch (error) {
    if (!needsSources || !ConfigValidationError.isInstance(error)) throw error;
    const more = await adapterIssues(file, options.env, options.cwd);
    if (more.length === 0) throw error;
    throw new ConfigValidationError({ file, issues: [...error.issues, ...more] });
  }
  const logger = createConsoleLogger({ level: options.logLevel, secrets: loaded.secrets });
  return { loaded, logger, env: options.env, cwd: options.cwd, command: options.command };
}

/**
 * The configured PostgreSQL server, or the embedded PGlite folder (relative to
 * the config file's folder). `migrate: false` leaves the schema as it is (the
 * caller runs `store.migrate()`); `onConnecting` see StoreOptions.
 */
export async function openConfiguredStore(runtime: Runtime, options: { migrate?: boolean; onConnecting?: () => void } = {}): Promise<UsageStore> {
  const database = runtime.loaded.config.database;
  return openStore({
    url: database.url || undefined,
    migrate: options.migrate,
    onConnecting: options.onConnecting,
    path: path.resolve(runtime.loaded.directory, database.path),
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
