import { UttError } from '@utt/core';

const NAME = 'UTT_StoreArgumentError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * A call the store refuses before it touches the database, such as an
 * unaligned watermark or an unknown report period. `argument` names the field
 * (`watermark.at`, `query.period`); nothing is written.
 */
export class StoreArgumentError extends UttError {
  private readonly [SYMBOL] = true;
  readonly argument: string;

  constructor(options: { argument: string; message: string }) {
    super({ name: NAME, message: `${options.argument}: ${options.message}` });
    this.argument = options.argument;
  }

  static override isInstance(error: unknown): error is StoreArgumentError {
    return UttError.carries(error, MARKER);
  }
}
