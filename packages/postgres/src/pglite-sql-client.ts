import { mkdir } from 'node:fs/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { INT8_TYPE_ID, parseInt8 } from './parse-int8';
import { copyFromPglite } from './copy-from';
import type { SqlClient } from './sql-client';
import { createTransactionClient } from './transaction-client';

/**
 * Opens (creating on first use) an embedded PGlite database in the folder
 * `dataDir`. PGlite is single-process: one worker at a time per folder.
 */
export async function openPglite(dataDir: string): Promise<SqlClient> {
  // PGlite's in-memory and browser stores take a URL-like path instead of a folder.
  if (!dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  // PGlite already returns safe BIGINTs as numbers but unsafe ones as BigInt;
  // the explicit parser keeps both backends returning the same type.
  // Loaded here, not at the top: a process that talks to a PostgreSQL server
  // never compiles PGlite's half a megabyte of JavaScript.
  const { PGlite } = await import('@electric-sql/pglite');
  const database = await PGlite.create(dataDir, { parsers: { [INT8_TYPE_ID]: parseInt8 } });
  return createPgliteSqlClient(database);
}

function createPgliteSqlClient(database: PGlite): SqlClient {
  return {
    kind: 'pglite',
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await database.query<T>(text, params === undefined ? undefined : [...params]);
      return result.rows;
    },
    async exec(text: string): Promise<void> {
      await database.exec(text);
    },
    async copyFrom(statement: string, data: AsyncIterable<string>): Promise<void> {
      // One transaction, so a failing blob does not leave the earlier ones copied.
      await database.transaction((transaction: Transaction) =>
        copyFromPglite((text, params, options) => transaction.query(text, params, options), statement, data),
      );
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      // PGlite's transaction() holds its own lock: a query on `database` (not
      // on `tx`) inside `fn` would wait for the transaction and never run.
      return database.transaction(async (transaction: Transaction) => {
        const { client, finish } = createTransactionClient({
          kind: 'pglite',
          query: async <Row>(text: string, params?: readonly unknown[]) =>
            (await transaction.query<Row>(text, params === undefined ? undefined : [...params])).rows,
          exec: async (text: string) => {
            await transaction.exec(text);
          },
          copyFrom: (statement, data) => copyFromPglite((text, params, options) => transaction.query(text, params, options), statement, data),
        });
        try {
          return await fn(client);
        } finally {
          finish();
        }
      });
    },
    // In process: there is no server to leave behind, so it always finishes.
    async close(): Promise<void> {
      await database.close();
    },
  };
}
