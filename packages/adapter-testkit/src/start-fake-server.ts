import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the fake server received it. */
export type FakeServerRequest = {
  readonly method: string;
  /** The full URL, query string included. */
  readonly url: URL;
  /** Lower-case header names, repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
};

/** A recorded request, with the moment it arrived (milliseconds, `performance.now()` clock). */
export type RecordedRequest = FakeServerRequest & { readonly receivedAt: number };

export type FakeServerResponse = {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
};

/**
 * Answers one request. A promise that never settles makes a server that never
 * answers (the request hangs until the client gives up or the server closes).
 */
export type FakeServerHandler = (request: FakeServerRequest) => FakeServerResponse | Promise<FakeServerResponse>;

export type FakeServer = {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly baseUrl: string;
  /** Every request received so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Stops listening and drops open connections, hanging ones included. */
  close(): Promise<void>;
};

/**
 * Starts a real node:http server on 127.0.0.1 and a free port, so adapters are
 * tested through real sockets, deadlines and retries rather than a mocked fetch.
 * A handler that throws answers 500 with the error message in the body.
 */
export async function startFakeServer(handler: FakeServerHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    void answer(incoming, outgoing);
  });

  async function answer(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      url: new URL(incoming.url ?? '/', baseUrl),
      headers: flattenHeaders(incoming.headers),
      body,
      receivedAt: performance.now(),
    };
    requests.push(request);
    let response: FakeServerResponse;
    try {
      response = await handler(request);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      response = { status: 500, body: JSON.stringify({ error: { message: `fake server handler threw: ${message}` } }) };
    }
    if (outgoing.destroyed) return;
    outgoing.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
    outgoing.end(response.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    incoming.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
