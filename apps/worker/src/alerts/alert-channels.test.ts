import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAlertChannel } from './alert-channels';

let server: Server;
let base: string;
let status = 200;
const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'invalid_payload');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  status = 200;
});

const critical = { rule: 'quota', subject: 'anthropic/a/7d', level: 'critical', previousLevel: 'ok', urgency: 'critical' as const, message: 'anthropic a 7d quota CRITICAL: 97% used' };
const recovery = { ...critical, level: 'ok', previousLevel: 'critical', urgency: 'info' as const, message: 'anthropic a 7d quota back to OK: 20% used' };
const options = { fetch: globalThis.fetch, write: () => {} };

describe('alert channels', () => {
  it("slack: Slack's incoming-webhook JSON", async () => {
    await createAlertChannel('chat', { type: 'slack', url: `${base}/services/T/B/secret` }, options).send(critical);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]?.body ?? '{}')).toEqual({ text: ':red_circle: utt: anthropic a 7d quota CRITICAL: 97% used' });
  });

  it('ntfy: the message as the body to <url>/<topic>, title, priority and tags as headers, bearer token', async () => {
    const channel = createAlertChannel('phone', { type: 'ntfy', url: base, topic: 'utt alerts', token: 'tk_secret' }, options);
    await channel.send(critical);
    await channel.send(recovery);
    expect(received.map((request) => [request.path, request.headers.title, request.headers.priority, request.headers.tags, request.headers.authorization, request.body])).toEqual([
      ['/utt%20alerts', 'utt quota: critical', '5', 'rotating_light', 'Bearer tk_secret', 'anthropic a 7d quota CRITICAL: 97% used'],
      ['/utt%20alerts', 'utt quota: ok', '3', 'white_check_mark', 'Bearer tk_secret', '✅ anthropic a 7d quota back to OK: 20% used (was critical)'],
    ]);
  });

  it('an error names the channel and status, never the URL', async () => {
    status = 400;
    const failure = createAlertChannel('chat', { type: 'slack', url: `${base}/services/T/B/secret-path` }, options).send(critical);
    await expect(failure).rejects.toThrow('alert channel "chat" (slack): HTTP 400 invalid_payload');
    await expect(createAlertChannel('chat', { type: 'slack', url: 'http://127.0.0.1:9/secret-path' }, options).send(critical)).rejects.toThrow(
      /^alert channel "chat" \(slack\): could not connect \(network error\)$/,
    );
  });

  it('stdout: one line per notification', async () => {
    const lines: string[] = [];
    await createAlertChannel('log', { type: 'stdout' }, { ...options, write: (text) => lines.push(text) }).send(recovery);
    expect(lines).toEqual(['[quota] ✅ anthropic a 7d quota back to OK: 20% used (was critical)\n']);
  });
});
