import { UttError } from '@utt/core';

const NAME = 'UTT_PrometheusQueryError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * A Prometheus query that failed: unreachable, an error status (400 bad
 * parameters, 422 the expression cannot run, 503 timeout), `status: error`
 * in the body, or a body that is not a range result. The message carries the
 * PromQL and Prometheus's own error, never headers (where credentials live).
 */
export class PrometheusQueryError extends UttError {
  private readonly [SYMBOL] = true;
  readonly query: string;
  readonly endpoint: string;
  readonly statusCode: number | undefined;

  constructor(options: { query: string; endpoint: string; reason: string; statusCode?: number; cause?: unknown }) {
    super({ name: NAME, message: `Prometheus query failed at ${options.endpoint}: ${options.reason} (PromQL: ${options.query})`, cause: options.cause });
    this.query = options.query;
    this.endpoint = options.endpoint;
    this.statusCode = options.statusCode;
  }

  static override isInstance(error: unknown): error is PrometheusQueryError {
    return UttError.carries(error, MARKER);
  }
}
