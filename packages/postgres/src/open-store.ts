import { resolve } from 'node:path';
import { ConfigValidationError, redactSecrets } from '@utt/core';
import { databaseUrlSecrets, describeDatabaseUrl } from './database-url';
import { acquireEmbeddedLock } from './embedded-lock';
import { DEFAULT_SCHEMA, storeTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreConnectionError } from './store-connection-error';
import type { StoreTimeouts } from './store-timeouts';
import { createUsageStore, type UsageStore } from './usage-store';

/** Where the embedded database lives when neither `url` nor `path` is given, relative to the working directory. */
export const DEFAULT_PGLITE_PATH = '.utt/pglite';

/** The worker's `database:` block. */
export type StoreOptions = {
  /** A `postgres://` or `postgresql://` URL. When set, the store uses that server and `path` is ignored. */
  readonly url?: string;
  /** The embedded PGlite folder, created if missing; relative paths resolve against the working directory. */
  readonly path?: string;
  /** The schema for utt's tables, created if missing. Default `utt`. */
  readonly schema?: string;
  /** Apply pending migrations while opening. Default true. */
  readonly migrate?: boolean;
  /** PostgreSQL only: connect, statement, lock and idle-in-transaction limits; see DEFAULT_STORE_TIMEOUTS. */
  readonly timeouts?: Partial<StoreTimeouts>;
  /**
   * PostgreSQL only: called once the driver is loaded and the connection has
   * been started (the socket opening; the login follows by itself), before
   * openStore resolves. A caller with other work to do (`utt run` loading
   * adapters) can start it now, so that the server's fork, login and first
   * answers overlap that work instead of following it.
   */
  readonly onConnecting?: () => void;
  /**
   * PGlite only: one process per folder is enforced with a lock file beside it.
   * `command` is what the lock shows to a process that has to wait (`utt import`);
   * `waitMs` how long to wait for the holder (default 10 min); `onWait` hears
   * once that the wait began.
   */
  readonly embeddedLock?: { readonly command?: string; readonly waitMs?: number; readonly onWait?: (message: string) => void };
};

/**
 * Opens the store: a PostgreSQL server when `url` is set, otherwise embedded
 * PGlite in `path`. Checks the connection and, unless `migrate: false`, brings
 * the schema up to date, so the store is ready to write when this resolves.
 */
export async function openStore(options: StoreOptions = {}): Promise<UsageStore> {
  const tables = storeTables(options.schema ?? DEFAULT_SCHEMA);
  const client =
    options.url === undefined ? await openEmbedded(options.path, options.embeddedLock) : await openServer(options.url, options.timeouts, options.onConnecting);
  const store = createUsageStore(client, tables);
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    }
  }
  return store;
}

async function openServer(url: string, timeouts: Partial<StoreTimeouts> | undefined, onConnecting: (() => void) | undefined): Promise<SqlClient> {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigValidationError({ issues: ['database.url: must be a postgres:// or postgresql:// URL'] });
  }
  try {
    // Each driver is loaded when it is used (its own chunk): a PGlite user never loads pg, nor the other way round.
    const { connectPostgres } = await import('./pg-sql-client');
    return await connectPostgres(url, { timeouts, onConnecting });
  } catch (error) {
    // pg's own messages do not contain the password, but a URL parser's can:
    // scrub every form of it and show the URL without it.
    const cause = redactSecrets(describeError(error), databaseUrlSecrets(url));
    throw new StoreConnectionError({
      option: 'database.url',
      message: `could not connect to PostgreSQL at ${describeDatabaseUrl(url)} (database.url): ${cause}`,
      code: errorCode(error),
    });
  }
}

async function openEmbedded(path: string | undefined, lockOptions: StoreOptions['embeddedLock']): Promise<SqlClient> {
  const dataDir = path?.includes('://') ? path : resolve(path ?? DEFAULT_PGLITE_PATH);
  // In-memory and browser stores have no folder another process could open.
  const lock = dataDir.includes('://') ? undefined : await acquireEmbeddedLock(dataDir, lockOptions);
  try {
    const { openPglite } = await import('./pglite-sql-client');
    const client = await openPglite(dataDir);
    if (lock === undefined) return client;
    return {
      ...client,
      async close() {
        try {
          await client.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await lock?.release();
    throw new StoreConnectionError({
      option: 'database.path',
      message: `could not open the embedded PGlite database at ${dataDir} (database.path): ${describeError(error)}`,
      code: errorCode(error),
    });
  }
}

/** Node reports a refused connection to several addresses as an AggregateError with an empty message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    const messages = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner)));
    return messages.join('; ') || 'connection failed';
  }
  if (error instanceof Error) return error.message || errorCode(error) || error.name;
  return String(error);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
