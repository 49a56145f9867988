import { UttError } from './utt-error';

const NAME = 'UTT_InvalidRecordError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** A usage record that breaks the schema or an invariant; the issues name the field. */
export class InvalidRecordError extends UttError {
  private readonly [SYMBOL] = true;
  readonly issues: readonly string[];

  constructor(options: { issues: readonly string[]; where?: string }) {
    super({
      name: NAME,
      message: `invalid usage record${options.where ? ` (${options.where})` : ''}: ${options.issues.join('; ')}`,
    });
    this.issues = options.issues;
  }

  static override isInstance(error: unknown): error is InvalidRecordError {
    return UttError.carries(error, MARKER);
  }
}
