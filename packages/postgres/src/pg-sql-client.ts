import pg from 'pg';
import { INT8_TYPE_ID, parseInt8 } from './parse-int8';
import { copyFromPg } from './copy-from';
import type { SqlClient } from './sql-client';
import { createTransactionClient } from './transaction-client';

/** How long to wait for a connection before giving up, so a cron run cannot hang on a dead host. */
const CONNECT_TIMEOUT_MS = 15_000;

// Per pool rather than pg.types.setTypeParser, which would change how BIGINT
// parses for every other user of `pg` in the same process.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((typeId: number, format?: 'text' | 'binary') =>
    typeId === INT8_TYPE_ID ? parseInt8 : pg.types.getTypeParser(typeId, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Connects to a PostgreSQL server and checks the connection with one round
 * trip, so a wrong URL fails here rather than at the first write. Errors are
 * passed through as `pg` throws them; the caller words them without the URL.
 */
export async function connectPostgres(url: string): Promise<SqlClient> {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    fallback_application_name: 'utt',
    types,
  });
  // An idle connection that drops emits 'error' on the pool; without a listener
  // Node would end the process. The next query fails and reports it instead.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return createPgSqlClient(pool);
}

function createPgSqlClient(pool: pg.Pool): SqlClient {
  return {
    kind: 'postgres',
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await pool.query(text, params === undefined ? undefined : [...params]);
      return result.rows as T[];
    },
    async exec(text: string): Promise<void> {
      // Without parameters pg uses the simple query protocol, which accepts
      // several statements in one string.
      await pool.query(text);
    },
    async copyFrom(statement: string, data: AsyncIterable<string>): Promise<void> {
      const connection = await pool.connect();
      let connectionBroken = false;
      try {
        await copyFromPg(connection, statement, data);
      } catch (error) {
        connectionBroken = true;
        throw error;
      } finally {
        connection.release(connectionBroken);
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const connection = await pool.connect();
      const { client, finish } = createTransactionClient({
        kind: 'postgres',
        query: async <Row>(text: string, params?: readonly unknown[]) =>
          (await connection.query(text, params === undefined ? undefined : [...params])).rows as Row[],
        exec: async (text: string) => {
          await connection.query(text);
        },
        copyFrom: (statement, data) => copyFromPg(connection, statement, data),
      });
      let connectionBroken = false;
      try {
        await connection.query('BEGIN');
        const result = await fn(client);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await connection.query('ROLLBACK');
        } catch {
          // The connection is unusable; drop it rather than return it to the pool.
          connectionBroken = true;
        }
        throw error;
      } finally {
        finish();
        connection.release(connectionBroken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
