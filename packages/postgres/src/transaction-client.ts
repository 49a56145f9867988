import type { SqlClient } from './sql-client';

type Statements = {
  readonly kind: SqlClient['kind'];
  readonly query: <T>(text: string, params?: readonly unknown[]) => Promise<T[]>;
  readonly exec: (text: string) => Promise<void>;
  readonly copyFrom: (statement: string, data: AsyncIterable<string>) => Promise<void>;
};

/**
 * The `tx` client handed to a transaction function, for both backends.
 *
 * A nested `transaction()` becomes a savepoint: PostgreSQL has no nested
 * BEGIN. After the transaction ends the client refuses further statements:
 * with `pg` its connection is back in the pool, and a stray `await` would
 * otherwise run outside the transaction, on a connection someone else may hold.
 */
export function createTransactionClient(statements: Statements): { client: SqlClient; finish: () => void } {
  let finished = false;
  let savepointCount = 0;

  const ensureOpen = (): void => {
    if (finished) throw new Error('this transaction has already ended: run statements inside the transaction function');
  };

  const client: SqlClient = {
    kind: statements.kind,
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      ensureOpen();
      return statements.query<T>(text, params);
    },
    async exec(text: string): Promise<void> {
      ensureOpen();
      await statements.exec(text);
    },
    async copyFrom(statement: string, data: AsyncIterable<string>): Promise<void> {
      ensureOpen();
      await statements.copyFrom(statement, data);
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      ensureOpen();
      savepointCount += 1;
      const savepoint = `utt_savepoint_${savepointCount}`;
      await statements.exec(`SAVEPOINT ${savepoint}`);
      try {
        const result = await fn(client);
        await statements.exec(`RELEASE SAVEPOINT ${savepoint}`);
        return result;
      } catch (error) {
        await statements.exec(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        throw error;
      }
    },
    async close(): Promise<void> {
      throw new Error('a transaction client cannot be closed: the transaction ends when its function returns');
    },
  };

  return {
    client,
    finish: () => {
      finished = true;
    },
  };
}
