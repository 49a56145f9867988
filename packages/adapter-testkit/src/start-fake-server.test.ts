import { afterEach, describe, expect, it } from 'vitest';
import { type FakeServer, startFakeServer } from './start-fake-server';

describe('startFakeServer', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers real HTTP on loopback and records each request', async () => {
    server = await startFakeServer((request) => ({
      status: 201,
      headers: { 'x-echo': request.url.searchParams.get('q') ?? '' },
      body: JSON.stringify({ method: request.method, body: request.body }),
    }));
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const response = await fetch(`${server.baseUrl}/v1/things?q=hello`, {
      method: 'POST',
      headers: { authorization: 'Bearer token', 'content-type': 'application/json' },
      body: '{"a":1}',
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('hello');
    expect(await response.json()).toEqual({ method: 'POST', body: '{"a":1}' });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.url.pathname).toBe('/v1/things');
    expect(request?.url.searchParams.get('q')).toBe('hello');
    expect(request?.headers.authorization).toBe('Bearer token');
    expect(request?.body).toBe('{"a":1}');
  });

  it('answers 500 with the message when the handler throws', async () => {
    server = await startFakeServer(() => {
      throw new Error('no fixture for this path');
    });
    const response = await fetch(`${server.baseUrl}/missing`);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain('no fixture for this path');
  });

  it('closes promptly while a request hangs, and the client sees the connection drop', async () => {
    server = await startFakeServer(() => new Promise(() => {}));
    const pending = fetch(`${server.baseUrl}/hang`).then(
      () => 'answered',
      () => 'dropped',
    );
    await expect.poll(() => server?.requests.length).toBe(1);
    const startedAt = performance.now();
    await server.close();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(await pending).toBe('dropped');
  });
});
