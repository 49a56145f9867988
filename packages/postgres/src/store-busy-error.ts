import { UttError } from '@utt/core';

const NAME = 'UTT_StoreBusyError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * The database answered but the work could not finish: a statement ran past
 * `database.statementTimeout`, a lock was held past `database.lockTimeout`, or
 * two writers deadlocked. The transaction was rolled back; the message says
 * which limit was hit and what to do.
 */
export class StoreBusyError extends UttError {
  private readonly [SYMBOL] = true;
  /** The PostgreSQL SQLSTATE: 57014 (statement timeout), 55P03 (lock timeout), 40P01 (deadlock). */
  readonly code: string;

  constructor(options: { message: string; code: string }) {
    super({ name: NAME, message: options.message });
    this.code = options.code;
  }

  static override isInstance(error: unknown): error is StoreBusyError {
    return UttError.carries(error, MARKER);
  }
}
