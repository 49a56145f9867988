import { UttError } from '@utt/core';

const NAME = 'UTT_AdapterLoadError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** An adapter named in the config that cannot be loaded: what is wrong, and the fix. */
export class AdapterLoadError extends UttError {
  private readonly [SYMBOL] = true;
  readonly specifier: string;

  constructor(options: { specifier: string; problem: string; fix: string; cause?: unknown }) {
    super({ name: NAME, message: `cannot load adapter ${options.specifier}: ${options.problem}; ${options.fix}`, cause: options.cause });
    this.specifier = options.specifier;
  }

  static override isInstance(error: unknown): error is AdapterLoadError {
    return UttError.carries(error, MARKER);
  }
}
