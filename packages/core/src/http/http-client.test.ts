import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdapterHttpError } from '../errors/adapter-http-error';
import { ResponseShapeError } from '../errors/response-shape-error';
import { UttError } from '../errors/utt-error';
import type { LogFields, Logger } from '../logger';
import { closedPort, sendJson, startTestServer, type TestServer } from './__fixtures__/loopback-server';
import { createHttpClient } from './http-client';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}

/** The rejection of a promise, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function httpErrorOf(promise: Promise<unknown>): Promise<AdapterHttpError> {
  const error = await rejectionOf(promise);
  expect(AdapterHttpError.isInstance(error), String(error)).toBe(true);
  return error as AdapterHttpError;
}

function recordingLogger(): Logger & { lines: Array<[string, string, LogFields | undefined]> } {
  const lines: Array<[string, string, LogFields | undefined]> = [];
  const log = (level: string) => (message: string, fields?: LogFields) => void lines.push([level, message, fields]);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

const usageSchema = z.object({ data: z.array(z.object({ model: z.string(), input_tokens: z.number() })) });

describe('createHttpClient against a loopback server', () => {
  it('returns a 2xx JSON body validated by the schema', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { data: [{ model: 'gpt-4o', input_tokens: 12 }], extra: true }),
    );
    const client = createHttpClient({ deadlineMs: 2_000, userAgent: 'utt-test/1' });
    const value = await client.requestJson({
      url: `${server.url}/v1/usage`,
      query: { group_by: ['model', 'project_id'], limit: 31, bucket: undefined, exact: true },
      headers: { 'x-api-key': 'k' },
      schema: usageSchema,
    });
    expect(value).toEqual({ data: [{ model: 'gpt-4o', input_tokens: 12 }] });
    expect(server.requests).toHaveLength(1);
    const seen = server.requests[0];
    expect(seen?.method).toBe('GET');
    expect(seen?.url).toBe('/v1/usage?group_by=model&group_by=project_id&limit=31&exact=true');
    expect(seen?.headers.accept).toBe('application/json');
    expect(seen?.headers['user-agent']).toBe('utt-test/1');
    expect(seen?.headers['x-api-key']).toBe('k');
  });

  it('sends a POST body as JSON', async () => {
    const server = await serve((_request, response) => sendJson(response, 201, { ok: true }));
    const client = createHttpClient({ deadlineMs: 2_000 });
    await client.requestJson({ url: server.url, method: 'POST', body: { a: [1, 2] }, schema: z.object({ ok: z.boolean() }) });
    expect(server.requests[0]?.method).toBe('POST');
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ a: [1, 2] });
  });

  it('returns text bodies with requestText', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('line 1\nline 2\n');
    });
    const response = await createHttpClient({ deadlineMs: 2_000 }).requestText({ url: `${server.url}/metrics` });
    expect(response.status).toBe(200);
    expect(response.text).toBe('line 1\nline 2\n');
    expect(response.headers.get('content-type')).toBe('text/plain');
  });

  it('a body of the wrong shape is a ResponseShapeError naming the field path, not retried', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { data: [{ model: 'a', input_tokens: 1 }, { model: 'b', input_tokens: 'many' }] }),
    );
    const error = await rejectionOf(
      createHttpClient({ deadlineMs: 2_000 }).requestJson({ url: `${server.url}/v1/usage?api_key=CANARY-SECRET`, schema: usageSchema }),
    );
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    const shapeError = error as ResponseShapeError;
    expect(shapeError.issues).toHaveLength(1);
    expect(shapeError.issues[0]).toMatch(/^data\[1\]\.input_tokens: /);
    expect(shapeError.message).toContain('data[1].input_tokens');
    expect(shapeError.endpoint).toBe(`${server.url}/v1/usage`);
    expect(shapeError.message).not.toContain('CANARY');
    expect(server.requests).toHaveLength(1);
  });

  it('a body that is not JSON is a ResponseShapeError', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>login</html>');
    });
    const error = await rejectionOf(createHttpClient({ deadlineMs: 2_000 }).requestJson({ url: server.url, schema: usageSchema }));
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as ResponseShapeError).issues).toEqual(['body is not valid JSON']);
  });

  it('honours Retry-After on a 429 and then succeeds', async () => {
    const server = await serve((_request, response, index) => {
      if (index === 0) sendJson(response, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
      else sendJson(response, 200, { data: [] });
    });
    const logger = recordingLogger();
    const started = Date.now();
    const value = await createHttpClient({ deadlineMs: 2_000, backoffBaseMs: 10, logger }).requestJson({
      url: server.url,
      schema: usageSchema,
    });
    const elapsed = Date.now() - started;
    expect(value).toEqual({ data: [] });
    expect(server.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect((server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(logger.lines).toEqual([
      ['warn', 'retrying HTTP call', expect.objectContaining({ attempt: 1, status: 429, failure: 'status', waitMs: 1000 })],
    ]);
  });

  it('retries a 500 with backoff and then succeeds', async () => {
    const server = await serve((_request, response, index) => {
      if (index === 0) sendJson(response, 500, { error: 'boom' });
      else sendJson(response, 200, { data: [] });
    });
    await expect(
      createHttpClient({ deadlineMs: 2_000, backoffBaseMs: 10 }).requestJson({ url: server.url, schema: usageSchema }),
    ).resolves.toEqual({ data: [] });
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxAttempts and reports how many attempts were made', async () => {
    const server = await serve((_request, response) => sendJson(response, 503, { message: 'down for maintenance' }));
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 2_000, backoffBaseMs: 5, maxAttempts: 3 }).requestText({ url: `${server.url}/x` }),
    );
    expect(server.requests).toHaveLength(3);
    expect(error.attempts).toBe(3);
    expect(error.statusCode).toBe(503);
    expect(error.failure).toBe('status');
    expect(error.isRetryable).toBe(true);
    expect(error.message).toBe(`GET ${server.url}/x answered 503: down for maintenance`);
  });

  it('does not retry a 401, and the error carries no query-string secret and no header value', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 401, { error: { message: 'invalid credentials', type: 'auth' } }),
    );
    const logger = recordingLogger();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 2_000, backoffBaseMs: 5, logger }).requestJson({
        url: `${server.url}/v1/usage?api_key=CANARY-SECRET&day=1#CANARY-fragment`,
        query: { token: 'CANARY-SECRET-2' },
        headers: { authorization: 'Bearer CANARY-SECRET', 'x-api-key': 'CANARY-HEADER' },
        schema: usageSchema,
      }),
    );
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer CANARY-SECRET');
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.failure).toBe('status');
    expect(error.attempts).toBe(1);
    expect(error.endpoint).toBe(`${server.url}/v1/usage`);
    expect(error.message).toBe(`GET ${server.url}/v1/usage answered 401: invalid credentials`);
    expect(error.message).not.toContain('CANARY');
    expect(error.stack ?? '').not.toContain('CANARY');
    expect(JSON.stringify(error)).not.toContain('CANARY');
    expect(String(error)).not.toContain('CANARY');
    expect(JSON.stringify(logger.lines)).not.toContain('CANARY');
  });

  it('keeps a secret out of the error when the provider echoes it in its error body', async () => {
    const server = await serve((request, response) =>
      sendJson(response, 403, {
        error: { message: `key ${String(request.headers['x-api-key'])} (${String(request.headers.authorization)}) not allowed for ${request.url}; send a Bearer token` },
      }),
    );
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 2_000 }).requestText({
        url: `${server.url}/v1/usage?api_key=CANARY-QUERY`,
        query: { access_token: 'CANARY-QUERY-2' },
        headers: { authorization: 'Bearer CANARY-BEARER', 'x-api-key': 'CANARY-HEADER' },
      }),
    );
    expect(error.statusCode).toBe(403);
    expect(error.message).toBe(
      `GET ${server.url}/v1/usage answered 403: key [redacted] ([redacted]) not allowed for /v1/usage?api_key=[redacted]&access_token=[redacted]; send a Bearer token`,
    );
    for (const text of [error.message, error.stack ?? '', JSON.stringify(error)]) expect(text).not.toContain('CANARY');
  });

  it('cuts a long provider error message', async () => {
    const server = await serve((_request, response) => sendJson(response, 400, { error: 'x'.repeat(1_000) }));
    const error = await httpErrorOf(createHttpClient({ deadlineMs: 2_000 }).requestText({ url: server.url }));
    expect(error.message.length).toBeLessThan(400);
    expect(error.message.endsWith('…')).toBe(true);
  });

  it('uses describeError for a provider-specific error body', async () => {
    const server = await serve((_request, response) => sendJson(response, 422, { errors: [{ detail: 'bad window' }] }));
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 2_000 }).requestText({
        url: server.url,
        describeError: (body, status) => `${status} ${(body as { errors: Array<{ detail: string }> }).errors[0]?.detail}`,
      }),
    );
    expect(error.message).toMatch(/answered 422: 422 bad window$/);
    expect(error.isRetryable).toBe(false);
  });

  it('a server that accepts the connection but never answers fails with a deadline error in time', async () => {
    const server = await serve(() => {
      // Never answer.
    });
    const started = Date.now();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 300, maxAttempts: 1 }).requestText({ url: `${server.url}/slow?api_key=CANARY` }),
    );
    const elapsed = Date.now() - started;
    expect(error.failure).toBe('deadline');
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBeUndefined();
    expect(error.message).toBe(`GET ${server.url}/slow did not complete within the 300 ms deadline`);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('a server that sends headers and then stalls the body also hits the deadline', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"data": [');
      // The rest never comes.
    });
    const started = Date.now();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 300, maxAttempts: 1 }).requestJson({ url: server.url, schema: usageSchema }),
    );
    expect(error.failure).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('retries a deadline failure within the attempt limit', async () => {
    const server = await serve((_request, response, index) => {
      if (index > 0) sendJson(response, 200, { data: [] });
    });
    await expect(
      createHttpClient({ deadlineMs: 300, maxAttempts: 2, backoffBaseMs: 5 }).requestJson({ url: server.url, schema: usageSchema }),
    ).resolves.toEqual({ data: [] });
    expect(server.requests).toHaveLength(2);
  });

  it('fails fast with retryAfterMs when Retry-After exceeds the remaining retry budget', async () => {
    const server = await serve((_request, response) => sendJson(response, 429, {}, { 'retry-after': '30' }));
    const started = Date.now();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 2_000, retryBudgetMs: 5_000 }).requestText({ url: server.url }),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
    expect(error.statusCode).toBe(429);
    expect(error.retryAfterMs).toBe(30_000);
    expect(error.isRetryable).toBe(true);
  });

  it('an external AbortSignal aborts a pending request promptly', async () => {
    const server = await serve(() => {
      // Never answer.
    });
    const controller = new AbortController();
    // One attempt: the abort itself must surface, not a network failure made of it.
    const client = createHttpClient({ deadlineMs: 10_000, maxAttempts: 1, signal: controller.signal });
    const started = Date.now();
    const pending = rejectionOf(client.requestText({ url: server.url }));
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(AdapterHttpError.isInstance(error)).toBe(false);
    expect((error as Error).message).toBe('shutting down');
    expect(server.requests).toHaveLength(1);
  });

  it('an external AbortSignal also cuts the wait between retries', async () => {
    const server = await serve((_request, response) => sendJson(response, 503, {}, { 'retry-after': '5' }));
    const controller = new AbortController();
    const client = createHttpClient({ deadlineMs: 2_000, retryBudgetMs: 30_000, signal: controller.signal });
    const started = Date.now();
    const pending = rejectionOf(client.requestText({ url: server.url }));
    setTimeout(() => controller.abort(), 200);
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((error as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection is a network failure, retried, then thrown', async () => {
    const port = await closedPort();
    const logger = recordingLogger();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 1_000, maxAttempts: 3, backoffBaseMs: 5, logger }).requestText({
        url: `http://127.0.0.1:${port}/v1?api_key=CANARY`,
        headers: { authorization: 'Bearer CANARY' },
      }),
    );
    expect(error.failure).toBe('network');
    expect(error.isRetryable).toBe(true);
    expect(error.attempts).toBe(3);
    expect(error.message).toBe(`GET http://127.0.0.1:${port}/v1 failed: ECONNREFUSED`);
    expect(logger.lines.filter(([level]) => level === 'warn')).toHaveLength(2);
    expect(`${error.stack} ${JSON.stringify(error)} ${JSON.stringify(logger.lines)}`).not.toContain('CANARY');
  });

  it('keeps credentials out of the error when fetch refuses the URL itself', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}));
    const url = new URL(`${server.url}/v1?api_key=CANARY-QUERY`);
    url.username = 'CANARY-USER';
    url.password = 'CANARY-PASSWORD';
    const error = await httpErrorOf(createHttpClient({ deadlineMs: 1_000, maxAttempts: 1 }).requestText({ url: url.href }));
    expect(error.failure).toBe('network');
    expect(error.endpoint).toBe(`${server.url}/v1`);
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v1 failed: /);
    for (const text of [error.message, error.stack ?? '', JSON.stringify(error)]) expect(text).not.toContain('CANARY');
    expect(server.requests).toHaveLength(0);
  });

  it('errors are UttErrors', async () => {
    const port = await closedPort();
    const error = await rejectionOf(createHttpClient({ maxAttempts: 1 }).requestText({ url: `http://127.0.0.1:${port}/` }));
    expect(UttError.isInstance(error)).toBe(true);
    expect((error as Error).name).toBe('UTT_AdapterHttpError');
  });

  it('refuses a body larger than maxResponseBytes while reading it (chunked, no Content-Length), without retrying', async () => {
    const chunk = 'x'.repeat(64 * 1024);
    let written = 0;
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // Keeps sending until the client stops reading: 16 MiB at most.
      const pump = () => {
        while (written < 16 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.on('close', () => (written = Number.POSITIVE_INFINITY));
      pump();
    });
    const error = await httpErrorOf(createHttpClient({ deadlineMs: 5_000, maxResponseBytes: 1024 * 1024 }).requestText({ url: `${server.url}/big` }));
    expect(error.failure).toBe('too-large');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(`GET ${server.url}/big answered with a body larger than 1 MiB (worker.httpMaxResponseSize); refused without reading the rest`);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a body whose Content-Length is over the limit before reading it', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': String(200 * 1024 * 1024) });
      response.write('{');
    });
    const error = await httpErrorOf(createHttpClient({ deadlineMs: 2_000, maxResponseBytes: 1024 }).requestText({ url: server.url }));
    expect(error.failure).toBe('too-large');
    expect(error.message).toContain('larger than 1 KiB');
  });

  it('reads a body just under the limit', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { data: [{ model: 'é'.repeat(100), input_tokens: 1 }] }));
    const value = await createHttpClient({ deadlineMs: 2_000, maxResponseBytes: 1024 }).requestJson({ url: server.url, schema: usageSchema });
    expect(value.data[0]?.model).toBe('é'.repeat(100));
  });

  it('keeps to the retry budget as a hard bound: the last attempt gets only what is left of it', async () => {
    const server = await serve(() => {
      // Never answer: every attempt runs into its deadline.
    });
    const started = Date.now();
    const error = await httpErrorOf(
      createHttpClient({ deadlineMs: 1_500, retryBudgetMs: 2_000, backoffBaseMs: 5, maxAttempts: 5 }).requestText({ url: `${server.url}/slow` }),
    );
    const elapsed = Date.now() - started;
    // Before, a second full 1.5 s deadline started at ~1.5 s and the call took ~3 s.
    expect(elapsed).toBeLessThan(2_300);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    expect(error.failure).toBe('deadline');
    expect(error.message).toMatch(/did not complete within the 2000 ms retry budget \(\d attempts\)/);
  });
});

