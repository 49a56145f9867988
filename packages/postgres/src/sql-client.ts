/**
 * The small query interface the store is written against, so that the same
 * code runs on a PostgreSQL server (`pg`) and on embedded PGlite.
 *
 * Values come back the same way on both: BIGINT as a JS number (counts are
 * safe integers), NUMERIC as a string (exact money), TIMESTAMPTZ as a Date,
 * JSONB parsed.
 */
export type SqlClient = {
  readonly kind: 'postgres' | 'pglite';
  /** One statement, with `$1`-style parameters; resolves to the rows it returns. */
  query<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements separated by `;`, without parameters (migrations). */
  exec(text: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back when it
   * throws. Use only the `tx` client inside. Called on a `tx` client, it opens
   * a savepoint, so a nested failure rolls back only its own part.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Runs one `COPY … FROM STDIN` statement fed with `data`, chunks of COPY text
   * (or CSV) as the statement's options say, each chunk ending at a line end. Streamed on a server; on PGlite
   * sent in blobs of at most a few megabytes, so neither holds the whole input.
   * If `data` throws, the COPY fails with that error. Run it inside a
   * transaction to make a failure undo the rows already copied.
   */
  copyFrom(statement: string, data: AsyncIterable<string>): Promise<void>;
  /** Releases the connection pool or the embedded database. */
  close(options?: CloseOptions): Promise<void>;
};

export type CloseOptions = {
  /**
   * Default true: resolves once the server has ended the sessions. False
   * (PostgreSQL only; PGlite always finishes): each session is told to end
   * and its socket no longer keeps the process alive, but the server's
   * goodbye (its backend exiting, a few ms) is not waited for. For a process
   * about to exit once its last statement has committed, such as a one-shot
   * `utt run`.
   */
  readonly waitForServer?: boolean;
};
