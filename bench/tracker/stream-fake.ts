// The loopback provider fake and the deferred-record timer that run.ts, ab-stream.ts and profile-stream.ts share, so
// the three measure the same stream.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import type OpenAI from 'openai';
import { serveStream } from './stream-fake-server.mjs';

/** What the fake's chunks look like: 'openai' (default), as OpenAI sends them (the fields of the recorded fixture packages/tracker/src/__fixtures__/openai-chat-stream-usage.sse); 'minimal', id, model, choices and usage only (the chunks of runs before 2026-12-06 afternoon). */
export type StreamShape = 'openai' | 'minimal';

export const streamShape = (): StreamShape => (process.env.BENCH_STREAM_SHAPE === 'minimal' ? 'minimal' : 'openai');

/**
 * Where the fake runs: 'process' (default), a Node process of its own, as a provider is never in its caller's
 * process; 'in-process' (`BENCH_FAKE=in-process`), on the bench's own event loop, where every microsecond the fake
 * spends serving the next call waits behind the tracker's deferred record (and the other way round): the pessimistic
 * case, and the runs before 2026-12-06 evening.
 */
export type FakePlacement = 'process' | 'in-process';

export const fakePlacement = (): FakePlacement => (process.env.BENCH_FAKE === 'in-process' ? 'in-process' : 'process');

/**
 * A streamed chat completion on 127.0.0.1 (stream-fake-server.mjs): `chunks` content chunks, then the usage chunk and
 * [DONE], sent back to back or one every `intervalMs`.
 */
export async function startStreamFake(options: { chunks: number; intervalMs?: number; shape?: StreamShape; placement?: FakePlacement }): Promise<{ baseURL: string; close(): void }> {
  const serverOptions = { chunks: options.chunks, intervalMs: options.intervalMs ?? 0, shape: options.shape ?? streamShape() };
  if ((options.placement ?? fakePlacement()) === 'in-process') {
    const fake = await serveStream(serverOptions);
    return { baseURL: `http://127.0.0.1:${fake.port}/v1`, close: () => fake.close() };
  }
  const child = spawn(process.execPath, [fileURLToPath(new URL('./stream-fake-server.mjs', import.meta.url)), JSON.stringify(serverOptions)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the stream fake exited (${code}) before listening`)));
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      if (output.includes('\n')) resolve(Number(output.trim()));
    });
  });
  child.removeAllListeners('exit');
  return { baseURL: `http://127.0.0.1:${port}/v1`, close: () => child.stdin.end() };
}

/**
 * Times each record the tracker defers past a stream's end (internals.defer), from its start to its settling: its
 * awaits are on reads that have already settled, so nothing else runs in between and this is the CPU the record
 * takes where it runs (cold caches included), far steadier on a shared machine than the CPU time of a whole call.
 */
export function timeDeferredRecords(tracker: object): number[] & { starts: number[] } {
  const samples = Object.assign([] as number[], { starts: [] as number[] });
  const internals = (tracker as Record<symbol, { defer(task: () => unknown): void } | undefined>)[Symbol.for('utt.tracker.internals')];
  if (!internals) return samples;
  const defer = internals.defer.bind(internals);
  internals.defer = (task) =>
    defer(() => {
      const started = performance.now();
      // When it started (performance.now()): set against the calls' ends, it tells whether a record ran on a caller's path.
      samples.starts.push(started);
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
 * One streamed call read to its end: the wall time to the stream's end (what the caller waits for), the process's
 * CPU time to that end (what the caller's path costs: the tracker's wrapper and its tap on the body, not its deferred
 * record), and the process's CPU time including one more turn of the event loop, where the tracker records a streamed
 * call (given to every client alike), so work moved past the end cannot hide from it. `endedAt` is the end's
 * performance.now().
 */
export async function timeStreamedCall(client: OpenAI, chunks: number): Promise<{ wall: number; cpuToEnd: number; cpu: number; endedAt: number }> {
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
  let received = 0;
  for await (const _ of stream) received += 1;
  const endedAt = performance.now();
  const toEnd = process.cpuUsage(cpuStarted);
  if (received !== chunks + 1) throw new Error(`expected ${chunks + 1} chunks, got ${received}`);
  await tick();
  const used = process.cpuUsage(cpuStarted);
  return { wall: endedAt - started, cpuToEnd: (toEnd.user + toEnd.system) / 1000, cpu: (used.user + used.system) / 1000, endedAt };
}

/**
 * Calls each client in blocks of `block` calls of one client, the blocks'
 * order shuffled each round by a generator with a fixed seed (every run sees
 * the same orders, and no client always follows the same other one), until
 * each has `calls` counted calls after `warmup`. `measure` runs every call;
 * `counted` is false for the warm-up and for a block's first call, which
 * follows a call of another client.
 */
export async function inShuffledBlocks<C>(
  clients: readonly C[],
  options: { readonly warmup: number; readonly calls: number; readonly block: number },
  measure: (client: C, counted: boolean) => Promise<void>,
): Promise<void> {
  const { warmup, calls, block } = options;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const countedSoFar = clients.map(() => 0);
  const rounds = Math.ceil((warmup + calls) / (block - 1));
  for (let round = 0; round < rounds; round += 1) {
    const order = clients.map((_, index) => index);
    for (let index = order.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [order[index], order[other]] = [order[other] as number, order[index] as number];
    }
    for (const index of order) {
      for (let call = 0; call < block; call += 1) {
        const counted = call > 0 && round * (block - 1) >= warmup && (countedSoFar[index] as number) < calls;
        if (counted) countedSoFar[index] = (countedSoFar[index] as number) + 1;
        await measure(clients[index] as C, counted);
      }
    }
  }
}
