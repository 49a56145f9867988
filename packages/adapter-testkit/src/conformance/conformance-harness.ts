import { describeUsageAdapterV1Problems, redactSecrets, type UsageRecordInput, validateWithSchema } from '@utt/core';
import { collectAll } from '../collect-all';
import type { CapturedLogLine } from '../create-capturing-logger';
import { createTestContext, type TestHttpSettings } from '../create-test-context';
import { type FakeServer, type FakeServerRequest, type FakeServerResponse, type RecordedRequest, startFakeServer } from '../start-fake-server';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/** What the fake server does during one collect. */
export type ServerBehaviour =
  /** Answers with `http.serve`. */
  | 'serve'
  /** The first request gets 429 with `Retry-After: 1`; the rest are served. */
  | 'rate-limit-once'
  /** The first request gets 500; the rest are served. */
  | 'server-error-once'
  /** Every request gets 401, its body echoing the credentials sent. */
  | 'unauthorized'
  /** No request is ever answered. */
  | 'never-answer';

export type CollectOutcome = {
  /** The records, or undefined when collect failed or did not settle. */
  readonly records: readonly UsageRecordInput[] | undefined;
  /** What collect threw, when it failed. */
  readonly error: unknown;
  readonly failed: boolean;
  /** collect had not settled when the run's time limit passed (its signal was then aborted). */
  readonly timedOut: boolean;
  readonly elapsedMs: number;
  readonly logs: readonly CapturedLogLine[];
  /** Requests the fake server received during this run. */
  readonly requests: readonly RecordedRequest[];
};

export type CollectRunOptions = {
  readonly behaviour?: ServerBehaviour;
  readonly http?: TestHttpSettings;
  /** How long collect may take before the run gives up on it. Default 10 s. */
  readonly limitMs?: number;
};

export type ConformanceHarness = {
  collect(run?: CollectRunOptions): Promise<CollectOutcome>;
};

const DEFAULT_LIMIT_MS = 10_000;

export const RATE_LIMIT_RESPONSE: FakeServerResponse = {
  status: 429,
  headers: { 'retry-after': '1' },
  body: JSON.stringify({ error: { message: 'rate limited (utt conformance kit)' } }),
};
export const SERVER_ERROR_RESPONSE: FakeServerResponse = {
  status: 500,
  body: JSON.stringify({ error: { message: 'internal error (utt conformance kit)' } }),
};
/** Headers every client sends; the rest may carry credentials. */
const ORDINARY_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'connection',
  'content-length',
  'content-type',
  'host',
  'sec-fetch-mode',
  'user-agent',
]);

/**
 * A 401 that, like some real providers ("Incorrect API key provided: sk-…"),
 * echoes the credentials it refused: the header values and the query string
 * it received. An adapter must not carry that text into its errors or logs.
 */
export function unauthorizedResponse(request: FakeServerRequest): FakeServerResponse {
  const echoed = Object.entries(request.headers)
    .filter(([name]) => !ORDINARY_HEADERS.has(name))
    .map(([, value]) => value);
  if (request.url.search) echoed.push(request.url.search);
  const message = `invalid credentials (utt conformance kit): ${echoed.join(' ') || 'none sent'}`;
  return { status: 401, body: JSON.stringify({ error: { message } }) };
}

/**
 * Runs `body` with a harness: the fake server (when `options.http` is given),
 * the config validated once, and a `collect` that builds a fresh test context
 * per run. Problems come back with every canary secret redacted, so a failing
 * check never prints the secret it caught.
 */
export async function withConformanceHarness(
  options: UsageAdapterConformanceOptions,
  body: (harness: ConformanceHarness) => Promise<readonly string[]>,
): Promise<string[]> {
  const secrets = options.canarySecrets ?? [];
  const shape = describeUsageAdapterV1Problems(options.adapter);
  if (shape.length > 0) return redactAll([`not a v1 adapter (see the definition check): ${shape.join('; ')}`], secrets);
  let server: FakeServer | undefined;
  try {
    let behaviour: ServerBehaviour = 'serve';
    let injected = false;
    const http = options.http;
    if (http) {
      server = await startFakeServer((request) => respond(request));
    }
    function respond(request: FakeServerRequest): FakeServerResponse | Promise<FakeServerResponse> {
      const serve = () => (http as NonNullable<typeof http>).serve(request);
      switch (behaviour) {
        case 'serve':
          return serve();
        case 'rate-limit-once':
        case 'server-error-once':
          if (injected) return serve();
          injected = true;
          return behaviour === 'rate-limit-once' ? RATE_LIMIT_RESPONSE : SERVER_ERROR_RESPONSE;
        case 'unauthorized':
          return unauthorizedResponse(request);
        case 'never-answer':
          return new Promise<never>(() => {});
      }
    }

    const rawConfig = http && server ? http.configForBaseUrl(server.baseUrl) : options.config;
    const validated = await validateWithSchema(options.adapter.configSchema, rawConfig, 'config');
    if (!validated.ok) {
      const origin = http ? 'the config from http.configForBaseUrl()' : 'the given config';
      return redactAll([`${origin} does not validate: ${validated.issues.join('; ')}`], secrets);
    }

    const harness: ConformanceHarness = {
      async collect(run = {}) {
        behaviour = run.behaviour ?? 'serve';
        injected = false;
        const firstRequest = server?.requests.length ?? 0;
        const context = createTestContext({
          config: validated.value,
          env: options.env,
          now: options.now ?? options.window.end,
          sourceName: options.sourceName ?? 'conformance',
          http: run.http,
        });
        const startedAt = performance.now();
        const settled = collectAll(options.adapter, options.window, context).then(
          (records) => ({ records, failed: false as const, error: undefined }),
          (error: unknown) => ({ records: undefined, failed: true as const, error }),
        );
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = new Promise<'timed-out'>((resolve) => {
          timer = setTimeout(() => resolve('timed-out'), run.limitMs ?? DEFAULT_LIMIT_MS);
        });
        const outcome = await Promise.race([settled, limit]);
        clearTimeout(timer);
        const elapsedMs = performance.now() - startedAt;
        const requests = server?.requests.slice(firstRequest) ?? [];
        if (outcome === 'timed-out') {
          context.abort(new Error('the conformance run gave up waiting for collect()'));
          return { records: undefined, error: undefined, failed: false, timedOut: true, elapsedMs, logs: context.logs, requests };
        }
        return { ...outcome, timedOut: false, elapsedMs, logs: context.logs, requests };
      },
    };
    return redactAll([...(await body(harness))], secrets);
  } finally {
    await server?.close();
  }
}

/** A short description of a collect that did not succeed, for problem lists. */
export function describeFailure(outcome: CollectOutcome): string {
  if (outcome.timedOut) return `collect() did not settle within ${Math.round(outcome.elapsedMs)} ms`;
  const error = outcome.error;
  return `collect() failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

function redactAll(problems: string[], secrets: readonly string[]): string[] {
  return problems.map((problem) => redactSecrets(problem, secrets));
}
