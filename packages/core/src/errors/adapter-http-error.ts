import { UttError } from './utt-error';

const NAME = 'UTT_AdapterHttpError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** Why an HTTP call failed: an error status, no answer in time, no connection at all, or a body over the size limit. */
export type AdapterHttpFailure = 'status' | 'deadline' | 'network' | 'too-large';

/**
 * An outbound HTTP call that failed. It carries the endpoint without its query
 * string, the status and whether a retry could help, and never request headers,
 * request bodies or response headers: those are where secrets live.
 */
export class AdapterHttpError extends UttError {
  private readonly [SYMBOL] = true;
  readonly failure: AdapterHttpFailure;
  readonly statusCode: number | undefined;
  readonly isRetryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** Origin and path only. */
  readonly endpoint: string;
  /** How many attempts were made before giving up. */
  readonly attempts: number;

  constructor(options: {
    message: string;
    endpoint: string;
    failure: AdapterHttpFailure;
    statusCode?: number;
    retryAfterMs?: number;
    attempts?: number;
    cause?: unknown;
  }) {
    super({ name: NAME, message: options.message, cause: options.cause });
    this.endpoint = options.endpoint;
    this.failure = options.failure;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.attempts = options.attempts ?? 1;
    // A body over the limit will be over it again: only status, deadline and network failures may retry.
    this.isRetryable =
      options.failure === 'deadline' ||
      options.failure === 'network' ||
      options.statusCode === 408 ||
      options.statusCode === 429 ||
      (options.statusCode !== undefined && options.statusCode >= 500);
  }

  static override isInstance(error: unknown): error is AdapterHttpError {
    return UttError.carries(error, MARKER);
  }
}
