import { UttError } from './utt-error';

const NAME = 'UTT_MissingSecretError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** A credential the source needs is not set. Names the variable or option, never a value. */
export class MissingSecretError extends UttError {
  private readonly [SYMBOL] = true;
  readonly variable: string;

  constructor(options: { variable: string; purpose?: string }) {
    super({
      name: NAME,
      message: `${options.variable} is not set${options.purpose ? ` (${options.purpose})` : ''}`,
    });
    this.variable = options.variable;
  }

  static override isInstance(error: unknown): error is MissingSecretError {
    return UttError.carries(error, MARKER);
  }
}
