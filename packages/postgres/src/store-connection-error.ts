import { UttError } from '@utt/core';

const NAME = 'UTT_StoreConnectionError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * The store could not be opened (the server was unreachable or refused the
 * login, or the PGlite folder could not be used), or an open PostgreSQL store
 * lost its server in use (connection dropped, server stopped or frozen past
 * `database.statementTimeout`). The message names the option
 * (`database.url`, `database.path`) and shows the URL without its password or
 * query string; the original error is not attached as `cause`, because some
 * (an invalid-URL TypeError, for one) carry the full URL.
 */
export class StoreConnectionError extends UttError {
  private readonly [SYMBOL] = true;
  readonly option: 'database.url' | 'database.path';
  /** The PostgreSQL SQLSTATE or Node error code of the failure, when there was one (e.g. `28P01`, `ECONNREFUSED`). */
  readonly code: string | undefined;

  constructor(options: { option: 'database.url' | 'database.path'; message: string; code?: string }) {
    super({ name: NAME, message: options.message });
    this.option = options.option;
    this.code = options.code;
  }

  static override isInstance(error: unknown): error is StoreConnectionError {
    return UttError.carries(error, MARKER);
  }
}
