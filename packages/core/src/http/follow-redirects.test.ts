import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, type TestServer } from './__fixtures__/loopback-server';
import { createHttpClient } from './http-client';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const started = await startTestServer(handler);
  servers.push(started);
  return started;
}

describe('redirects', () => {
  it('follows a redirect to another origin without the credential headers, and keeps them on the same origin', async () => {
    const storage = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    const api = await server((request, response) => {
      if (request.url === '/report') {
        response.writeHead(302, { location: '/report-moved' });
        return response.end();
      }
      response.writeHead(307, { location: `${storage.url}/signed?sig=abc` });
      response.end();
    });
    const client = createHttpClient({ userAgent: 'utt-test' });
    const result = await client.requestJson({
      url: `${api.url}/report`,
      headers: { 'x-api-key': 'CANARY-KEY', authorization: 'Bearer CANARY-TOKEN' },
      schema: z.object({ ok: z.boolean() }),
    });
    expect(result).toEqual({ ok: true });
    // Same origin: the key still goes along.
    expect(api.requests[1]?.url).toBe('/report-moved');
    expect(api.requests[1]?.headers['x-api-key']).toBe('CANARY-KEY');
    // Another origin: neither the custom key header nor Authorization travels.
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.url).toBe('/signed?sig=abc');
    expect(storage.requests[0]?.headers['x-api-key']).toBeUndefined();
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    expect(storage.requests[0]?.headers['user-agent']).toBe('utt-test');
  });

  it('gives up on a redirect loop with a network error naming the endpoint', async () => {
    const loop = await server((_request, response) => {
      response.writeHead(302, { location: '/again' });
      response.end();
    });
    const client = createHttpClient({ maxAttempts: 1 });
    await expect(client.requestText({ url: `${loop.url}/start` })).rejects.toThrow(/more than 5 redirects/);
  });
});
