// The loopback provider fake of bench/tracker: a streamed chat completion on 127.0.0.1. Plain JavaScript so that
// stream-fake.ts can run it as a process of its own (`node stream-fake-server.mjs '<options JSON>'` prints its port)
// or inside the bench's process.
import { createServer } from 'node:http';

/**
 * Serves `chunks` content chunks, then the usage chunk and [DONE], back to back or one every `intervalMs`. Each call
 * gets a response id of its own, as from a provider (the tracker counts each call once).
 * @param {{ chunks: number, intervalMs?: number, shape: 'openai' | 'minimal' }} options
 * @returns {Promise<{ port: number, close(): void }>}
 */
export async function serveStream(options) {
  const events = [];
  const openai = options.shape === 'openai';
  // OpenAI names the creation time, service tier and fingerprint in every chunk, the usage chunk included.
  const head = openai ? { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1764930001, model: 'gpt-4o-mini', service_tier: 'default', system_fingerprint: 'fp_bench' } : { id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: 'gpt-4o-mini' };
  for (let index = 0; index < options.chunks; index += 1) {
    const choice = openai ? { index: 0, delta: { content: `token${index} ` }, logprobs: null, finish_reason: null } : { index: 0, delta: { content: `token${index} ` }, finish_reason: null };
    events.push(`data: ${JSON.stringify({ ...head, choices: [choice], usage: null })}\n\n`);
  }
  const usage = openai
    ? { prompt_tokens: 1000, completion_tokens: options.chunks, total_tokens: 1000 + options.chunks, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } }
    : { prompt_tokens: 1000, completion_tokens: options.chunks, total_tokens: 1000 + options.chunks };
  events.push(`data: ${JSON.stringify({ ...head, choices: [], usage })}\n\ndata: [DONE]\n\n`);
  const intervalMs = options.intervalMs ?? 0;
  let served = 0;
  const server = createServer(async (request, response) => {
    for await (const _ of request) {
      // drain the request
    }
    served += 1;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of events) {
      response.write(event.replaceAll('chatcmpl-bench', `chatcmpl-${served}`));
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    response.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => server.close() };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const fake = await serveStream(JSON.parse(process.argv[2] ?? '{}'));
  process.stdout.write(`${fake.port}\n`);
  // The bench closes stdin (or exits): the fake goes with it.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
