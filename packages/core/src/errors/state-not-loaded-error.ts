import { UttError } from './utt-error';

const NAME = 'UTT_StateNotLoadedError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * A state key read before it was loaded: with on-demand state loading, an
 * unloaded key may well be stored, and answering "absent" would make an
 * incremental reader start over (and count twice).
 */
export class StateNotLoadedError extends UttError {
  private readonly [SYMBOL] = true;
  readonly key: string;

  constructor(options: { key: string; prefix?: boolean }) {
    super({
      name: NAME,
      message: options.prefix
        ? `state keys under "${options.key}" were read before they were loaded: await state.load({ prefixes: ["${options.key}"] }) first`
        : `state key "${options.key}" was read before it was loaded: await state.load({ keys: ["${options.key}"] }) first`,
    });
    this.key = options.key;
  }

  static override isInstance(error: unknown): error is StateNotLoadedError {
    return UttError.carries(error, MARKER);
  }
}
