import { createHttpClient, type HttpClientOptions, type UsageAdapterV1Context } from '@utt/core';
import { type CapturedLogLine, createCapturingLogger } from './create-capturing-logger';

/** HTTP client settings a test may tighten; the defaults suit a loopback server. */
export type TestHttpSettings = Pick<HttpClientOptions, 'deadlineMs' | 'retryBudgetMs' | 'maxAttempts' | 'backoffBaseMs' | 'userAgent'>;

/** Test defaults: a 2 s deadline per attempt, 5 s for all attempts, 10 ms backoff base, 4 attempts. */
export const TEST_HTTP_SETTINGS = {
  deadlineMs: 2_000,
  retryBudgetMs: 5_000,
  maxAttempts: 4,
  backoffBaseMs: 10,
} as const satisfies TestHttpSettings;

export type TestContextOptions<TConfig> = {
  /** The validated config (the configSchema's output, defaults applied). */
  readonly config: TConfig;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A fixed instant or a clock. Default: the real clock. */
  readonly now?: Date | (() => Date);
  /** Default `'test'`. */
  readonly sourceName?: string;
  /** Used by `context.http` and exposed as `context.fetch`. Default: the global fetch. */
  readonly fetch?: typeof globalThis.fetch;
  /** Overrides of TEST_HTTP_SETTINGS. */
  readonly http?: TestHttpSettings;
  /** An outer signal; the context's own signal also aborts when it does. */
  readonly signal?: AbortSignal;
};

export type TestContext<TConfig> = UsageAdapterV1Context<TConfig> & {
  /** Every line the adapter (and its HTTP client) logged, in order. */
  readonly logs: readonly CapturedLogLine[];
  /** Aborts `signal`, as a worker shutting down would. */
  abort(reason?: unknown): void;
};

/**
 * Builds the context an adapter receives from the worker, for tests: core's
 * deadline/retry HTTP client with short test timings, a capturing logger, an
 * abort signal, a fixed clock, env and a source name. No globals are touched.
 */
export function createTestContext<TConfig>(options: TestContextOptions<TConfig>): TestContext<TConfig> {
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const logger = createCapturingLogger();
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const fixedNow = options.now;
  const now = typeof fixedNow === 'function' ? fixedNow : fixedNow ? () => new Date(fixedNow.getTime()) : () => new Date();
  const http = createHttpClient({ ...TEST_HTTP_SETTINGS, ...options.http, fetch: fetchImpl, signal, logger });
  return {
    config: options.config,
    http,
    fetch: fetchImpl,
    env: { ...options.env },
    logger,
    signal,
    now,
    sourceName: options.sourceName ?? 'test',
    logs: logger.lines,
    abort: (reason?: unknown) => controller.abort(reason),
  };
}
