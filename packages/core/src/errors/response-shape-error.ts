import { UttError } from './utt-error';

const NAME = 'UTT_ResponseShapeError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * A provider answered 2xx with a body that does not have the shape the adapter
 * maps. The source fails rather than writing wrong numbers; the message names
 * the field (`data[0].results[1].input_tokens: expected number`).
 */
export class ResponseShapeError extends UttError {
  private readonly [SYMBOL] = true;
  readonly endpoint: string;
  readonly issues: readonly string[];

  constructor(options: { endpoint: string; issues: readonly string[]; cause?: unknown }) {
    super({
      name: NAME,
      message: `unexpected response from ${options.endpoint}: ${options.issues.slice(0, 5).join('; ')}${
        options.issues.length > 5 ? ` (and ${options.issues.length - 5} more)` : ''
      }`,
      cause: options.cause,
    });
    this.endpoint = options.endpoint;
    this.issues = options.issues;
  }

  static override isInstance(error: unknown): error is ResponseShapeError {
    return UttError.carries(error, MARKER);
  }
}
