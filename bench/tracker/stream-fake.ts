// The loopback provider fake and the deferred-record timer that run.ts, ab-stream.ts and profile-stream.ts share, so
// the three measure the same stream.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import type OpenAI from 'openai';

/**
 * A streamed chat completion on 127.0.0.1: `chunks` content chunks, then the usage chunk and [DONE], sent back to
 * back or one every `intervalMs`. Each call gets a response id of its own, as from a provider (the tracker counts
 * each call once).
 */
export async function startStreamFake(options: { chunks: number; intervalMs?: number }): Promise<{ baseURL: string; close(): void }> {
  const events: string[] = [];
  for (let index = 0; index < options.chunks; index += 1) {
    events.push(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `token${index} ` }, finish_reason: null }], usage: null })}\n\n`);
  }
  events.push(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 1000, completion_tokens: options.chunks, total_tokens: 1000 + options.chunks } })}\n\ndata: [DONE]\n\n`);
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
