import { UttError } from './utt-error';

const NAME = 'UTT_InvalidAdapterError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** A module named as an adapter whose export is not a usage adapter. */
export class InvalidAdapterError extends UttError {
  private readonly [SYMBOL] = true;
  readonly packageName: string;

  constructor(options: { packageName: string; reason: string; cause?: unknown }) {
    super({ name: NAME, message: `${options.packageName} is not a utt adapter: ${options.reason}`, cause: options.cause });
    this.packageName = options.packageName;
  }

  static override isInstance(error: unknown): error is InvalidAdapterError {
    return UttError.carries(error, MARKER);
  }
}
