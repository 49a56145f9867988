import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const fixture = (name: string) => readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url));

export const FIXTURES = {
  chat: fixture('openai-chat.json'),
  chatStreamUsage: fixture('openai-chat-stream-usage.sse'),
  chatStream: fixture('openai-chat-stream.sse'),
  responses: fixture('openai-responses.json'),
  responsesStream: fixture('openai-responses-stream.sse'),
  embeddings: fixture('openai-embeddings.json'),
  anthropic: fixture('anthropic-message.json'),
  anthropicStream: fixture('anthropic-message-stream.sse'),
  google: fixture('google-generate.json'),
  googleStream: fixture('google-stream.sse'),
  googleStreamCached: fixture('google-stream-cached.sse'),
};

export type FakeRequest = { readonly path: string; readonly body: Record<string, unknown> };

/**
 * A loopback HTTP server that answers like OpenAI's and Anthropic's APIs with
 * recorded-shape bodies, sent in small pieces (so parsers meet split events
 * and split UTF-8). Models pick special behaviour: `*-429` is rate limited
 * once, `*-hang` streams two events and then waits for the client to leave,
 * a Gemini `*-cached` stream reports cached content and thoughts, and a Gemini
 * `*-afc` model asks for a function call before it answers.
 * `snapshots` maps a requested model to the dated snapshot a non-streamed chat
 * completion names, as OpenAI answers `gpt-4o-mini` with `gpt-4o-mini-2024-07-18`. Gemini's
 * model is read from the URL (`models/<model>:generateContent`), not the body.
 */
export async function startFakeProvider(options: { chunkBytes?: number; snapshots?: Readonly<Record<string, string>> } = {}) {
  const requests: FakeRequest[] = [];
  const limited = new Set<string>();
  const chunkBytes = options.chunkBytes ?? 7;

  const send = async (response: ServerResponse, status: number, type: string, body: Buffer, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': type, ...headers });
    for (let offset = 0; offset < body.length; offset += chunkBytes) {
      response.write(body.subarray(offset, offset + chunkBytes));
      await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  };

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {}
    requests.push({ path, body });
    const googleModel = /\/models\/([^/:]+):/.exec(path)?.[1];
    const model = String(body.model ?? googleModel ?? '');
    const stream = body.stream === true;
    const anthropic = path.endsWith('/messages');
    const limits: Record<string, string> = anthropic
      ? { 'request-id': `req_${requests.length}`, 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '49', 'anthropic-ratelimit-tokens-reset': '2026-12-06T04:00:00Z' }
      : { 'x-request-id': `req_${requests.length}`, 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-tokens': '6ms' };

    if (model.endsWith('-429') && !limited.has(model)) {
      limited.add(model);
      const error = anthropic
        ? { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }
        : googleModel !== undefined
          ? { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } }
          : { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
      await send(response, 429, 'application/json', Buffer.from(JSON.stringify(error)), { 'retry-after-ms': '10', 'retry-after': '0', 'x-ratelimit-remaining-requests': '0' });
      return;
    }
    if (model.endsWith('-hang') && stream) {
      const source = anthropic ? FIXTURES.anthropicStream : FIXTURES.chatStreamUsage;
      const events = source.toString('utf8').split('\n\n');
      response.writeHead(200, { 'content-type': 'text/event-stream', ...limits });
      response.write(`${events.slice(0, 2).join('\n\n')}\n\n`);
      request.socket.on('close', () => response.destroy());
      return;
    }
    if (path.includes(':generateContent') && model.endsWith('-afc')) {
      // Automatic function calling: a function call first, then (once the request carries its result) the answer.
      const answered = JSON.stringify(body.contents ?? []).includes('functionResponse');
      const answer = answered
        ? { candidates: [{ content: { parts: [{ text: 'Sunny, 21 °C.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 130, candidatesTokenCount: 20, thoughtsTokenCount: 5, totalTokenCount: 155 }, modelVersion: model, responseId: 'g-afc-2' }
        : { candidates: [{ content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 }, modelVersion: model, responseId: 'g-afc-1' };
      await send(response, 200, 'application/json', Buffer.from(JSON.stringify(answer)));
      return;
    }
    if (path.includes(':generateContent') || path.includes(':streamGenerateContent')) {
      const googleStream = path.includes(':streamGenerateContent');
      const googleStreamBody = model.endsWith('-cached') ? FIXTURES.googleStreamCached : FIXTURES.googleStream;
      await send(response, 200, googleStream ? 'text/event-stream' : 'application/json', googleStream ? googleStreamBody : FIXTURES.google, { 'x-ratelimit-remaining-requests': '99' });
      return;
    }
    if (anthropic) {
      await send(response, 200, stream ? 'text/event-stream' : 'application/json', stream ? FIXTURES.anthropicStream : FIXTURES.anthropic, limits);
    } else if (path.endsWith('/chat/completions')) {
      const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      const snapshot = options.snapshots?.[model];
      const chat = snapshot === undefined ? FIXTURES.chat : Buffer.from(JSON.stringify({ ...JSON.parse(FIXTURES.chat.toString('utf8')), model: snapshot }));
      await send(response, 200, stream ? 'text/event-stream' : 'application/json', stream ? (includeUsage ? FIXTURES.chatStreamUsage : FIXTURES.chatStream) : chat, limits);
    } else if (path.endsWith('/responses')) {
      await send(response, 200, stream ? 'text/event-stream' : 'application/json', stream ? FIXTURES.responsesStream : FIXTURES.responses, limits);
    } else if (path.endsWith('/embeddings')) {
      // The SDK asks for base64 unless told otherwise, as the API then answers.
      const embeddings = JSON.parse(FIXTURES.embeddings.toString('utf8')) as { data: Array<{ embedding: number[] | string }> };
      if (body.encoding_format === 'base64') {
        for (const item of embeddings.data) item.embedding = Buffer.from(new Float32Array(item.embedding as number[]).buffer).toString('base64');
      }
      const answer = body.encoding_format === 'base64' ? Buffer.from(JSON.stringify(embeddings)) : FIXTURES.embeddings;
      await send(response, 200, 'application/json', answer, limits);
    } else {
      await send(response, 404, 'application/json', Buffer.from('{"error":{"message":"not found"}}'));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
