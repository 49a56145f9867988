import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { DashboardHandler } from './dashboard-handler';

/**
 * Adapts the handler to node:http's (request, response) pair, which Express
 * and Connect also use. Express strips its mount path from `req.url`; the
 * original URL is kept in `originalUrl`, and that is what the handler needs
 * to match its `basePath`.
 */
export function toNodeListener(handler: DashboardHandler): (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void {
  return (request, response, next) => {
    const path = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
    const host = request.headers.host ?? 'localhost';
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    // GET and HEAD only carry no body; anything else is refused by the handler without reading one.
    const webRequest = new Request(new URL(path, `http://${host}`), { method: request.method ?? 'GET', headers });
    handler(webRequest).then(
      async (webResponse) => {
        response.statusCode = webResponse.status;
        webResponse.headers.forEach((value, name) => {
          if (name !== 'set-cookie') response.setHeader(name, value);
        });
        const cookies = webResponse.headers.getSetCookie();
        if (cookies.length > 0) response.setHeader('set-cookie', cookies);
        if (webResponse.body === null) {
          response.end();
          return;
        }
        Readable.fromWeb(webResponse.body as import('node:stream/web').ReadableStream).pipe(response);
      },
      (error: unknown) => {
        if (next) {
          next(error);
          return;
        }
        response.statusCode = 500;
        response.end('internal error\n');
      },
    );
  };
}
