// The loopback provider fake and the deferred-record timer that run.ts, ab-stream.ts and profile-stream.ts share, so
// the three measure the same stream.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import type OpenAI from 'openai';

/** What the fake's chunks look like: 'openai' (default), as OpenAI sends them (the fields of the recorded fixture packages/tracker/src/__fixtures__/openai-chat-stream-usage.sse); 'minimal', id, model, choices and usage only (the chunks of runs before 2026-12-06 afternoon). */
export type StreamShape = 'openai' | 'minimal';

export const streamShape = (): StreamShape => (process.env.BENCH_STREAM_SHAPE === 'minimal' ? 'minimal' : 'openai');

/**
 * A streamed chat completion on 127.0.0.1: `chunks` content chunks, then the usage chunk and [DONE], sent back to
 * back or one every `intervalMs`. Each call gets a response id of its own, as from a provider (the tracker counts
 * each call once).
 */
export async function startStreamFake(options: { chunks: number; intervalMs?: number; shape?: StreamShape }): Promise<{ baseURL: string; close(): void }> {
  const events: string[] = [];
  const openai = (options.shape ?? streamShape()) === 'openai';
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => server.close() };
}

/**
 * Times each record the tracker defers past a stream's end (internals.defer), from its start to its settling: its
 * awaits are on reads that have already settled, so nothing else runs in between and this is the CPU the record
 * takes where it runs (cold caches included), far steadier on a shared machine than the CPU time of a whole call.
 */
export function timeDeferredRecords(tracker: object): number[] {
  const samples: number[] = [];
  const internals = (tracker as Record<symbol, { defer(task: () => unknown): void } | undefined>)[Symbol.for('utt.tracker.internals')];
  if (!internals) return samples;
  const defer = internals.defer.bind(internals);
  internals.defer = (task) =>
    defer(() => {
      const started = performance.now();
      const result = task();
      if (!(result instanceof Promise)) {
        samples.push(performance.now() - started);
        return result;
      }
      return result.then((value) => {
        samples.push(performance.now() - started);
        return value;
      });
    });
  return samples;
}

/**
 * One streamed call read to its end: the wall time to the stream's end (what the caller waits for), and the process's
 * CPU time including one more turn of the event loop, where the tracker records a streamed call (given to every
 * client alike), so work moved past the end cannot hide from it.
 */
export async function timeStreamedCall(client: OpenAI, chunks: number): Promise<{ wall: number; cpu: number }> {
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
  let received = 0;
  for await (const _ of stream) received += 1;
  const wall = performance.now() - started;
  if (received !== chunks + 1) throw new Error(`expected ${chunks + 1} chunks, got ${received}`);
  await tick();
  const used = process.cpuUsage(cpuStarted);
  return { wall, cpu: (used.user + used.system) / 1000 };
}
