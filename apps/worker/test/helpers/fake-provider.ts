import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProvider = {
  readonly baseUrl: string;
  readonly requests: Array<{ path: string; query: URLSearchParams; authorization: string | undefined }>;
  close(): Promise<void>;
};

const HOUR_MS = 3_600_000;

/**
 * The numbers the fake serves for one bucket, derived from the bucket's time
 * alone so a test can write the expected rows down independently.
 */
export function servedBucket(bucketStart: Date, model: 'alpha' | 'beta') {
  const hour = bucketStart.getUTCHours();
  return {
    input_including_cache: model === 'alpha' ? 1000 + hour : 500,
    output: model === 'alpha' ? 200 + hour : 50,
    // beta reports no cache data at all: it must stay NULL, not 0.
    cache_read: model === 'alpha' ? (hour % 2 === 0 ? 0 : 300) : null,
    requests: model === 'alpha' ? 3 : 1,
  };
}

/**
 * A usage API on loopback, real HTTP. Behaviour is chosen by the first path
 * segment: /ok, /unauthorized (401), /hang (never answers), /invalid (a
 * negative count), /flaky (a 429 with Retry-After, then fine), /huge (an 8 MiB body),
 * /echo (the caller's key inside a model name), /revised (beta dropped, as a
 * provider's revision can).
 */
export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: FakeProvider['requests'] = [];
  let flakyServed = false;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const [mode, endpoint] = url.pathname.split('/').filter(Boolean);
    requests.push({ path: url.pathname, query: url.searchParams, authorization: request.headers.authorization });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (mode === 'hang') {
      hanging.add(response);
      return;
    }
    if (mode === 'huge') {
      // A valid but enormous page: 8 MiB of padding in one string.
      return json(200, { rows: [], padding: 'x'.repeat(8 * 1024 * 1024) });
    }
    if (mode === 'unauthorized') return json(401, { error: { message: 'this key lacks the usage:read permission' } });
    if (mode === 'flaky' && !flakyServed) {
      flakyServed = true;
      return json(429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
    }
    if (endpoint === 'whoami') return json(200, { ok: true });
    if (endpoint === 'costs') {
      // One billed amount per UTC day the window touches, in cents-exact dollars.
      const days = [];
      const first = Math.floor(new Date(url.searchParams.get('start') ?? '').getTime() / (24 * HOUR_MS));
      const last = Math.ceil(new Date(url.searchParams.get('end') ?? '').getTime() / (24 * HOUR_MS));
      for (let day = first; day < last; day++) days.push({ date: new Date(day * 24 * HOUR_MS).toISOString(), amount: '1.23' });
      return json(200, { days });
    }
    const start = new Date(url.searchParams.get('start') ?? '');
    const end = new Date(url.searchParams.get('end') ?? '');
    const granularity = url.searchParams.get('granularity');
    const step = granularity === 'day' ? 24 * HOUR_MS : HOUR_MS;
    const rows = [];
    for (let at = start.getTime(); at < end.getTime(); at += step) {
      const bucket = new Date(at);
      // /revised: the provider's later revision, which no longer reports beta.
      for (const model of mode === 'revised' ? (['alpha'] as const) : (['alpha', 'beta'] as const)) {
        rows.push({ bucket_start: bucket.toISOString(), provider: 'fakeai', model, api_key: 'key-1', ...servedBucket(bucket, model) });
      }
    }
    if (mode === 'invalid' && rows[0]) rows[0].input_including_cache = -5;
    // A provider that echoes the caller's key back in a data field.
    if (mode === 'echo' && rows[0]) rows[0].model = `alpha-${(request.headers.authorization ?? '').replace(/^Bearer /, '')}` as 'alpha';
    // Two pages, so the adapter's paging is exercised.
    const page = url.searchParams.get('page');
    const half = Math.ceil(rows.length / 2);
    if (page === '2') return json(200, { rows: rows.slice(half) });
    return json(200, { rows: rows.slice(0, half), next_page: rows.length > half ? '2' : null });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
