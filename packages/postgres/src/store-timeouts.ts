/**
 * How long the store waits on a PostgreSQL server before giving up, so that a
 * stopped, frozen or locked server ends a run with an error instead of
 * hanging it. PGlite runs in-process and has none of these.
 */
export type StoreTimeouts = {
  /** `connect_timeout`: opening a connection (TCP, TLS, login). Default 15 s. */
  readonly connectMs: number;
  /** `statement_timeout`: one statement on the server. Default 5 min. */
  readonly statementMs: number;
  /** `lock_timeout`: waiting for a row, table or advisory lock another session holds. Default 1 min. */
  readonly lockMs: number;
  /** `idle_in_transaction_session_timeout`: a transaction left open while its client does nothing (a stopped worker). Default 5 min. */
  readonly idleInTransactionMs: number;
};

export const DEFAULT_STORE_TIMEOUTS: StoreTimeouts = {
  connectMs: 15_000,
  statementMs: 300_000,
  lockMs: 60_000,
  idleInTransactionMs: 300_000,
};

/**
 * A frozen server (its backend stopped, its host paused) never enforces its
 * own statement_timeout: past statement_timeout plus this grace, the client
 * stops waiting, drops the connection and reports it.
 */
export const FROZEN_SERVER_GRACE_MS = 5_000;

/** The configured timeouts with defaults, each a whole number of milliseconds >= 1. */
export function resolveStoreTimeouts(timeouts: Partial<StoreTimeouts> | undefined): StoreTimeouts {
  const resolved = { ...DEFAULT_STORE_TIMEOUTS };
  for (const key of Object.keys(DEFAULT_STORE_TIMEOUTS) as Array<keyof StoreTimeouts>) {
    const value = timeouts?.[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`timeouts.${key}: must be a positive number of milliseconds`);
    resolved[key] = Math.round(value);
  }
  return resolved;
}
