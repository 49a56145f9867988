import type { CustomTypesConfig, Pool, PoolClient } from 'pg';
import { bindLargeParametersWithoutCopy } from './bind-large-parameters';
import { describeDatabaseUrl } from './database-url';
import { copyFromPg } from './copy-from';
import { loadPg } from './load-pg';
import { INT8_TYPE_ID, parseInt8 } from './parse-int8';
import type { CloseOptions, SqlClient } from './sql-client';
import { StoreBusyError } from './store-busy-error';
import { StoreConnectionError } from './store-connection-error';
import { FROZEN_SERVER_GRACE_MS, resolveStoreTimeouts, type StoreTimeouts } from './store-timeouts';
import { createTransactionClient } from './transaction-client';

const pg = loadPg();

// Per pool rather than pg.types.setTypeParser, which would change how BIGINT
// parses for every other user of `pg` in the same process.
const types: CustomTypesConfig = {
  getTypeParser: ((typeId: number, format?: 'text' | 'binary') =>
    typeId === INT8_TYPE_ID ? parseInt8 : pg.types.getTypeParser(typeId, format)) as CustomTypesConfig['getTypeParser'],
};

/** SQLSTATE classes that mean the session is gone: connection exception, operator intervention (shutdown). */
const CONNECTION_LOST_CODE = /^(08|57P0)/;

/**
 * Connects to a PostgreSQL server, so a wrong URL, password or database fails
 * here rather than at the first write. The connection is kept for the first
 * statement (the server has checked the login and the database by the time it
 * accepts the session: a `SELECT 1` on top cost one more round trip of every
 * command). Errors of connecting are passed through as `pg` throws them; the
 * caller words them without the URL. Later errors come back worded: a lost or frozen
 * server as a StoreConnectionError, a timeout or deadlock as a StoreBusyError,
 * both naming the server (without its password).
 */
export async function connectPostgres(url: string, options: { timeouts?: Partial<StoreTimeouts>; onConnecting?: () => void } = {}): Promise<SqlClient> {
  const timeouts = resolveStoreTimeouts(options.timeouts);
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: timeouts.connectMs,
    // The server enforces these per session; the client-side query timeout
    // catches the case the server cannot: a frozen backend.
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    query_timeout: timeouts.statementMs + FROZEN_SERVER_GRACE_MS,
    keepAlive: true,
    fallback_application_name: 'utt',
    types,
  });
  // An idle connection that drops emits 'error' on the pool; without a listener
  // Node would end the process. The next query fails and reports it instead.
  pool.on('error', () => {});
  // Every session's socket, for a close that does not wait for the server.
  const sockets = new Set<{ unref(): void }>();
  pool.on('connect', (client) => {
    const stream = (client as Connection).connection?.stream;
    if (stream) sockets.add(stream);
  });
  pool.on('remove', (client) => {
    const stream = (client as Connection).connection?.stream;
    if (stream) sockets.delete(stream);
  });
  try {
    // pool.connect() opens the socket before it returns its promise.
    const connecting = pool.connect();
    options.onConnecting?.();
    (await connecting).release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return createPgSqlClient(pool, sockets, { server: `PostgreSQL at ${describeDatabaseUrl(url)}`, timeouts });
}

type Connection = PoolClient & { connection?: { stream?: { destroy(): void; unref(): void } } };

function createPgSqlClient(pool: Pool, sockets: ReadonlySet<{ unref(): void }>, where: { server: string; timeouts: StoreTimeouts }): SqlClient {
  /**
   * Runs `fn` on a connection of its own. A connection checked out of the pool
   * has no 'error' listener of the pool's: one that drops while in use (the
   * server restarted, a backend terminated) would emit an unhandled 'error'
   * and end the process, so it gets one here, and the failure is reported by
   * the statement that was running or the next one.
   */
  async function withConnection<T>(fn: (run: Statements) => Promise<T>): Promise<T> {
    let connection: Connection;
    try {
      connection = (await pool.connect()) as Connection;
    } catch (error) {
      throw wordError(error, where, 'connect');
    }
    if (connection.connection) bindLargeParametersWithoutCopy(connection.connection);
    let lost: unknown;
    const onError = (error: unknown) => {
      lost ??= error;
    };
    connection.on('error', onError);
    const run: Statements = {
      async query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
        if (lost !== undefined) throw wordError(lost, where);
        try {
          return (await connection.query(text, params === undefined ? undefined : [...params])).rows as Row[];
        } catch (error) {
          if (isConnectionLevel(error) || lost !== undefined) {
            lost ??= error;
            // A frozen server leaves the statement running on an open socket:
            // close it, or the process could not exit until the server wakes.
            connection.connection?.stream?.destroy();
          }
          throw wordError(error, where);
        }
      },
      async copyFrom(statement: string, data: AsyncIterable<string>): Promise<void> {
        if (lost !== undefined) throw wordError(lost, where);
        try {
          await copyFromPg(connection, statement, data);
        } catch (error) {
          // A COPY cut off half way leaves the protocol mid-stream: never hand this connection out again.
          lost ??= error;
          connection.connection?.stream?.destroy();
          throw wordError(error, where);
        }
      },
      broken: () => lost !== undefined,
    };
    try {
      return await fn(run);
    } finally {
      connection.off('error', onError);
      // A broken connection is dropped rather than handed to the next caller.
      connection.release(lost === undefined ? undefined : true);
    }
  }

  return {
    kind: 'postgres',
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      return withConnection((run) => run.query<T>(text, params));
    },
    async exec(text: string): Promise<void> {
      // Without parameters pg uses the simple query protocol, which accepts
      // several statements in one string.
      await withConnection((run) => run.query(text));
    },
    async copyFrom(statement: string, data: AsyncIterable<string>): Promise<void> {
      await withConnection((run) => run.copyFrom(statement, data));
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return withConnection(async (run) => {
        const { client, finish } = createTransactionClient({
          kind: 'postgres',
          query: <Row>(text: string, params?: readonly unknown[]) => run.query<Row>(text, params),
          exec: async (text: string) => {
            await run.query(text);
          },
          copyFrom: (statement, data) => run.copyFrom(statement, data),
        });
        try {
          await run.query('BEGIN');
          const result = await fn(client);
          await run.query('COMMIT');
          return result;
        } catch (error) {
          // On a lost connection the server rolls back by itself; there is no one to tell.
          if (!run.broken()) await run.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          finish();
        }
      });
    },
    async close(options: CloseOptions = {}): Promise<void> {
      if (options.waitForServer !== false) {
        await pool.end();
        return;
      }
      // pg writes each idle session's Terminate message now (synchronously:
      // the server ends the session cleanly); only the wait for the server to
      // close the socket, 4–5 ms of a one-shot command, is left out.
      const socketsNow = [...sockets];
      pool.end().catch(() => {});
      for (const socket of socketsNow) socket.unref();
    },
  };
}

type Statements = {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  copyFrom(statement: string, data: AsyncIterable<string>): Promise<void>;
  broken(): boolean;
};

/** pg's own wording for a socket that closed, never opened or stopped answering (these carry no SQLSTATE). */
const CONNECTION_MESSAGE = /connection terminated|not queryable|query read timeout|timeout exceeded when trying to connect|socket|connection closed/i;

/** A Node socket error, a connection-lost SQLSTATE class, or pg's wording for a dead socket: the session is gone. */
function isConnectionLevel(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined) return CONNECTION_LOST_CODE.test(code) || /^E[A-Z]+$/.test(code);
  return error instanceof Error && CONNECTION_MESSAGE.test(error.message);
}

/**
 * The error a caller sees: the server named (without password), the setting
 * that limits it, and what happened to the write. SQL errors that are the
 * caller's own (a constraint, a syntax error) pass through unchanged.
 */
function wordError(error: unknown, where: { server: string; timeouts: StoreTimeouts }, phase: 'connect' | 'statement' = 'statement'): unknown {
  if (StoreConnectionError.isInstance(error) || StoreBusyError.isInstance(error)) return error;
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message || code || error.name : String(error);
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  if (code === '57014' && /statement timeout/i.test(reason)) {
    return new StoreBusyError({
      code,
      message: `a statement on ${where.server} ran longer than database.statementTimeout (${seconds(where.timeouts.statementMs)}) and was cancelled; the transaction rolled back`,
    });
  }
  if (code === '55P03') {
    return new StoreBusyError({
      code,
      message: `waited longer than database.lockTimeout (${seconds(where.timeouts.lockMs)}) for a lock on ${where.server}: another process is writing the same source; the transaction rolled back, run again once it is done`,
    });
  }
  if (code === '40P01') {
    return new StoreBusyError({
      code,
      message: `${where.server} found a deadlock with another process writing the same rows; the transaction rolled back, run again`,
    });
  }
  if (phase === 'connect') {
    return new StoreConnectionError({ option: 'database.url', code, message: `could not connect to ${where.server} (database.url): ${reason}` });
  }
  if (!isConnectionLevel(error)) return error;
  if (/query read timeout/i.test(reason)) {
    return new StoreConnectionError({
      option: 'database.url',
      code: 'ETIMEDOUT',
      message: `${where.server} did not answer within database.statementTimeout + ${seconds(FROZEN_SERVER_GRACE_MS)} (${seconds(where.timeouts.statementMs + FROZEN_SERVER_GRACE_MS)}): the server looks frozen; the connection was dropped and its transaction rolls back`,
    });
  }
  return new StoreConnectionError({
    option: 'database.url',
    code,
    message: `lost the connection to ${where.server} (database.url): ${reason}; the server rolls back the transaction in flight (writing the window again is safe)`,
  });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
