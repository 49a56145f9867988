import type { StandardSchemaV1 } from '@standard-schema/spec';
import { AdapterHttpError } from '../errors/adapter-http-error';
import { ResponseShapeError } from '../errors/response-shape-error';
import type { Logger } from '../logger';
import { formatIssues } from '../schema/format-issues';
import { redactSecrets } from '../secret/redact-secrets';
import { endpointOf } from './endpoint-of';
import { fetchFollowingRedirects } from './follow-redirects';
import { parseRetryAfter } from './retry-after';

export type QueryValue = string | number | boolean;

export type HttpRequest = {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  /** Arrays repeat the key (`group_by=model&group_by=project_id`); undefined is left out. */
  readonly query?: Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;
  /** Sent as given and never copied into errors or logs. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /**
   * Pulls a human-readable message out of an error body (for example the
   * provider's `error.message`). The default reads `error.message`,
   * `error` or `message` from a JSON body.
   */
  readonly describeError?: (body: unknown, statusCode: number) => string | undefined;
};

export type HttpResponse = {
  readonly status: number;
  readonly url: string;
  readonly text: string;
  readonly headers: Headers;
};

export type HttpClient = {
  /** A 2xx JSON body validated against `schema`; anything else throws a typed error. */
  requestJson<T>(request: HttpRequest & { readonly schema: StandardSchemaV1<unknown, T> }): Promise<T>;
  /** A 2xx body as text (NDJSON downloads, Prometheus text). */
  requestText(request: HttpRequest): Promise<HttpResponse>;
};

export type HttpClientOptions = {
  readonly fetch?: typeof globalThis.fetch;
  /** Deadline for one attempt, over connect, headers and body (invariant 6). Default 15 s. */
  readonly deadlineMs?: number;
  /** Time all attempts of one call may take, waits included. Default 60 s. */
  readonly retryBudgetMs?: number;
  /** Default 4. */
  readonly maxAttempts?: number;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Backoff base, doubled each retry with full jitter. Default 500 ms, capped at 8 s. */
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
  /** Largest response body one call may return, in bytes; a larger one fails without retry. Default 64 MiB. */
  readonly maxResponseBytes?: number;
};

export const DEFAULT_HTTP_DEADLINE_MS = 15_000;
export const DEFAULT_HTTP_RETRY_BUDGET_MS = 60_000;
export const DEFAULT_HTTP_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const BACKOFF_CAP_MS = 8_000;
const ERROR_MESSAGE_LIMIT = 300;

/**
 * The one way adapters call HTTP APIs: every attempt has a deadline; 408, 429,
 * 5xx and network failures are retried with exponential backoff and jitter,
 * honouring Retry-After, within a total budget; errors carry the endpoint
 * without query string and never headers or bodies sent.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const deadlineMs = options.deadlineMs ?? DEFAULT_HTTP_DEADLINE_MS;
  const retryBudgetMs = options.retryBudgetMs ?? DEFAULT_HTTP_RETRY_BUDGET_MS;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const random = options.random ?? Math.random;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_HTTP_MAX_RESPONSE_BYTES;

  async function attempt(request: HttpRequest, url: URL, endpoint: string, attemptNumber: number, budgetLeftMs: number): Promise<HttpResponse> {
    // The retry budget is a hard bound: the last attempt gets only what is left of it.
    const attemptMs = Math.min(deadlineMs, budgetLeftMs);
    const deadline = AbortSignal.timeout(attemptMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (options.userAgent) headers['user-agent'] = options.userAgent;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const { response, finalUrl } = await fetchFollowingRedirects(fetchImpl, url, {
        method: request.method ?? 'GET',
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal,
      });
      // Reading the body inside the same signal puts it under the deadline too.
      const text = await readBodyWithin(response, maxResponseBytes, () =>
        new AdapterHttpError({
          message: `${request.method ?? 'GET'} ${endpoint} answered with a body larger than ${describeBytes(maxResponseBytes)} (worker.httpMaxResponseSize); refused without reading the rest`,
          endpoint,
          failure: 'too-large',
          statusCode: response.status,
          attempts: attemptNumber,
        }),
      );
      if (response.status < 200 || response.status >= 300) {
        throw new AdapterHttpError({
          message: `${request.method ?? 'GET'} ${endpoint} answered ${response.status}${describe(request, url, text, response.status)}`,
          endpoint,
          failure: 'status',
          statusCode: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
          attempts: attemptNumber,
        });
      }
      return { status: response.status, url: finalUrl.href, text, headers: response.headers };
    } catch (error) {
      if (AdapterHttpError.isInstance(error)) throw error;
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (deadline.aborted) {
        throw new AdapterHttpError({
          message:
            attemptMs < deadlineMs
              ? `${request.method ?? 'GET'} ${endpoint} did not complete within the ${retryBudgetMs} ms retry budget (${attemptNumber} attempts)`
              : `${request.method ?? 'GET'} ${endpoint} did not complete within the ${deadlineMs} ms deadline`,
          endpoint,
          failure: 'deadline',
          attempts: attemptNumber,
        });
      }
      throw new AdapterHttpError({
        message: `${request.method ?? 'GET'} ${endpoint} failed: ${networkReason(error, request, url, endpoint)}`,
        endpoint,
        failure: 'network',
        attempts: attemptNumber,
      });
    }
  }

  async function requestText(request: HttpRequest): Promise<HttpResponse> {
    const url = buildUrl(request);
    const endpoint = endpointOf(url);
    const startedAt = Date.now();
    for (let attemptNumber = 1; ; attemptNumber++) {
      try {
        return await attempt(request, url, endpoint, attemptNumber, Math.max(1, retryBudgetMs - (Date.now() - startedAt)));
      } catch (error) {
        if (!AdapterHttpError.isInstance(error) || !error.isRetryable || attemptNumber >= maxAttempts) throw error;
        const backoff = Math.min(BACKOFF_CAP_MS, backoffBaseMs * 2 ** (attemptNumber - 1)) * random();
        const waitMs = error.retryAfterMs !== undefined ? Math.max(error.retryAfterMs, backoff / 4) : backoff;
        if (Date.now() - startedAt + waitMs >= retryBudgetMs) throw error;
        options.logger?.warn('retrying HTTP call', {
          endpoint,
          attempt: attemptNumber,
          status: error.statusCode,
          failure: error.failure,
          waitMs: Math.round(waitMs),
        });
        await sleep(waitMs, options.signal);
      }
    }
  }

  async function requestJson<T>(request: HttpRequest & { readonly schema: StandardSchemaV1<unknown, T> }): Promise<T> {
    const response = await requestText(request);
    const endpoint = endpointOf(response.url || request.url);
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch (error) {
      throw new ResponseShapeError({ endpoint, issues: ['body is not valid JSON'], cause: error });
    }
    const result = await request.schema['~standard'].validate(body);
    if (result.issues) throw new ResponseShapeError({ endpoint, issues: formatIssues(result.issues) });
    return result.value;
  }

  return { requestJson, requestText };
}

/**
 * The body as text, read chunk by chunk so that a body over `maxBytes` is
 * refused when it crosses the limit (or at once, by its Content-Length)
 * instead of after it has filled memory.
 */
async function readBodyWithin(response: Response, maxBytes: number, tooLarge: () => Error): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}

function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function buildUrl(request: HttpRequest): URL {
  const url = new URL(request.url);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) url.searchParams.append(key, String(item));
  }
  return url;
}

function describe(request: HttpRequest, url: URL, text: string, statusCode: number): string {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: only a custom describeError may use the raw text.
  }
  const described = (request.describeError ?? defaultDescribeError)(body, statusCode);
  if (!described) return '';
  // A provider may echo the key it refused: never let it into the error.
  const message = redactSecrets(described, secretsOf(request, url));
  const trimmed = message.length > ERROR_MESSAGE_LIMIT ? `${message.slice(0, ERROR_MESSAGE_LIMIT)}…` : message;
  return `: ${trimmed}`;
}

function defaultDescribeError(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as Record<string, unknown>).message === 'string') {
    return (error as Record<string, string>).message;
  }
  return typeof record.message === 'string' ? record.message : undefined;
}

function networkReason(error: unknown, request: HttpRequest, url: URL, endpoint: string): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const reason =
    cause && typeof cause.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  // fetch puts the whole URL (query string, credentials) into some messages,
  // e.g. "Request cannot be constructed from a URL that includes credentials: …".
  return redactSecrets(reason.split(url.href).join(endpoint), secretsOf(request, url));
}

/** Query parameters whose values are credentials (api_key, access_token, sig…). */
const SECRET_QUERY_PARAMETER = /key|token|secret|passw|auth|sig|credential|session/i;
/** The scheme word of an Authorization header is not a secret ("Bearer token expired" stays readable). */
const AUTH_SCHEME = /^(bearer|basic|token|digest)$/i;

/**
 * What a request carries that may be a secret: header values (and each word of
 * them, for `Bearer <token>`), credential-like query values and URL userinfo.
 * Longest first, so a whole value is replaced before a part of it.
 */
function secretsOf(request: HttpRequest, url: URL): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(request.headers ?? {})) {
    secrets.push(value);
    for (const word of value.split(/\s+/)) if (!AUTH_SCHEME.test(word)) secrets.push(word);
  }
  for (const [key, value] of url.searchParams) if (SECRET_QUERY_PARAMETER.test(key)) secrets.push(value);
  for (const part of [url.username, url.password]) {
    if (part) secrets.push(part, safeDecode(part));
  }
  return secrets.sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
