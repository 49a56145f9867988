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
 * Times what a tracker does with a call after its end, where it runs:
 * - `records`: each call's record (internals.defer's task), from its start to its settling (its awaits, in builds that
 *   have them, are on reads that have already settled, so nothing else runs in between), with when it started
 *   (`starts`, performance.now(): set against the calls' ends, it tells whether a record ran on a caller's path);
 * - `passes`: each pass that ran records, with its start, wall and CPU time (process.cpuUsage()) and how many records
 *   it ran: a build that records calls in batches (internals.drain) runs several per pass, where the timer or the batch
 *   size puts it, possibly in another client's block; a build that records each call on its own, one per pass.
 * `passCpu()` is the CPU of every pass so far (ms): read before and after a call, it is the tracker's record work that
 * ran inside that call's window, whichever client's call it is. `drain()` runs a batching build's pending records now
 * (nothing for the others): a bench calls it at the end of the tracked client's block, so that no pass is left to land
 * in another client's block.
 */
export type TrackerProbe = {
  readonly records: number[] & { starts: number[] };
  readonly passes: Array<{ start: number; wall: number; cpu: number; calls: number }>;
  passCpu(): number;
  drain(): void;
  readonly batching: boolean;
};

export function probeTracker(tracker: object): TrackerProbe {
  const records = Object.assign([] as number[], { starts: [] as number[] });
  const passes: TrackerProbe['passes'] = [];
  let cpuTotal = 0;
  const internals = (tracker as Record<symbol, { defer(task: () => unknown): void; drain?: () => void } | undefined>)[Symbol.for('utt.tracker.internals')];
  const probe: TrackerProbe = { records, passes, passCpu: () => cpuTotal, drain: () => {}, batching: false };
  if (!internals) return probe;
  const batching = typeof internals.drain === 'function';
  let pending = 0;
  const defer = internals.defer.bind(internals);
  internals.defer = (task) => {
    pending += 1;
    defer(() => {
      const started = performance.now();
      const cpuStarted = batching ? undefined : process.cpuUsage();
      records.starts.push(started);
      const done = () => {
        const ended = performance.now();
        records.push(ended - started);
        if (cpuStarted !== undefined) {
          // One record, one pass.
          const used = process.cpuUsage(cpuStarted);
          const cpu = (used.user + used.system) / 1000;
          cpuTotal += cpu;
          passes.push({ start: started, wall: ended - started, cpu, calls: 1 });
        }
      };
      const result = task();
      if (!(result instanceof Promise)) {
        done();
        return result;
      }
      return result.then((value) => {
        done();
        return value;
      });
    });
  };
  if (batching) {
    const drain = (internals.drain as () => void).bind(internals);
    internals.drain = () => {
      const calls = pending;
      pending = 0;
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      drain();
      const used = process.cpuUsage(cpuStarted);
      const cpu = (used.user + used.system) / 1000;
      cpuTotal += cpu;
      passes.push({ start: started, wall: performance.now() - started, cpu, calls });
    };
    return {
      ...probe,
      batching,
      drain: () => {
        if (pending > 0) (internals.drain as () => void)();
      },
    };
  }
  return probe;
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
};

/**
 * One streamed call read to its end: the wall time to the stream's end (what the caller waits for), the process's
 * CPU time to that end (what the caller's path costs: the tracker's wrapper and its tap on the body, not its deferred
 * record), and the process's CPU time including one more turn of the event loop, where the tracker records a streamed
 * call (given to every client alike), so work moved past the end cannot hide from it. `endedAt` is the end's
 * performance.now(), `finishedAt` that of the end of the turn after it (the call's CPU window).
 */
export async function timeStreamedCall(client: OpenAI, chunks: number, afterEnd?: () => void): Promise<{ wall: number; cpuToEnd: number; cpu: number; startedAt: number; endedAt: number; finishedAt: number }> {
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
  let received = 0;
  for await (const _ of stream) received += 1;
  const endedAt = performance.now();
  const toEnd = process.cpuUsage(cpuStarted);
  if (received !== chunks + 1) throw new Error(`expected ${chunks + 1} chunks, got ${received}`);
  // What the bench has the tracker do after this call (drain its pending records), inside this call's CPU time.
  afterEnd?.();
  await tick();
  const used = process.cpuUsage(cpuStarted);
  return { wall: endedAt - started, cpuToEnd: (toEnd.user + toEnd.system) / 1000, cpu: (used.user + used.system) / 1000, startedAt: started, endedAt, finishedAt: performance.now() };
}

/**
 * The orders of a Williams design for `count` clients: each client once in
 * each place of a round, and right after each other client equally often
 * over the orders (`count` orders, twice that for an odd count).
 */
export function balancedOrders(count: number): number[][] {
  const first: number[] = [];
  for (let low = 0, high = count - 1; first.length < count; ) {
    first.push(low++);
    if (first.length < count) first.push(high--);
  }
  const orders = Array.from({ length: count }, (_, shift) => first.map((index) => (index + shift) % count));
  return count % 2 === 1 ? [...orders, ...orders.map((order) => [...order].reverse())] : orders;
}

/**
 * Calls each client in blocks of `block` calls of one client, one block of
 * each client per round, the rounds' orders those of a Williams design taken
 * in turn (balancedOrders): each client as often in each place, and after
 * each other client, as any other, so that what a block leaves behind (its
 * garbage, the caches it filled, a slower moment of the machine) falls alike
 * on all. Randomly shuffled orders left that to chance, and over the 20-odd
 * rounds of a run two identical clients came out 1.5-2 % apart. Runs until
 * each client has `calls` counted calls after `warmup`. `measure` runs every
 * call; `counted` is false for the warm-up and for a block's first call,
 * which follows a call of another client; `lastOfBlock` is true for a
 * block's last call, which another client's block follows; `round` numbers
 * the rounds, so that a bench can set the clients' blocks of one round
 * against each other.
 */
export async function inBalancedBlocks<C>(
  clients: readonly C[],
  options: { readonly warmup: number; readonly calls: number; readonly block: number },
  measure: (client: C, counted: boolean, lastOfBlock: boolean, round: number) => Promise<void>,
): Promise<void> {
  const { warmup, calls, block } = options;
  const orders = balancedOrders(clients.length);
  const countedSoFar = clients.map(() => 0);
  const rounds = Math.ceil((warmup + calls) / (block - 1));
  for (let round = 0; round < rounds; round += 1) {
    for (const index of orders[round % orders.length] as number[]) {
      for (let call = 0; call < block; call += 1) {
        const counted = call > 0 && round * (block - 1) >= warmup && (countedSoFar[index] as number) < calls;
        if (counted) countedSoFar[index] = (countedSoFar[index] as number) + 1;
        await measure(clients[index] as C, counted, call === block - 1, round);
      }
    }
  }
}

/**
 * A ratio between clients estimated round by round: `ratio` gives it for one
 * round's medians; returned are its median over the rounds and a 95 %
 * interval of that median (a bootstrap over rounds, with a fixed seed: the
 * same figures always print the same interval). The median, not the mean: a
 * round in which one client's block met a collection or a busy neighbour is
 * an outlier the mean follows.
 */
export function roundByRound<K extends string>(
  perRound: ReadonlyArray<Record<K, number>>,
  ratio: (medians: Record<K, number>) => number,
): { median: number; low: number; high: number } {
  const values = perRound.map(ratio);
  const middle = (sample: number[]) => {
    const sorted = [...sample].sort((a, b) => a - b);
    const half = sorted.length >> 1;
    return sorted.length % 2 === 1 ? (sorted[half] as number) : ((sorted[half - 1] as number) + (sorted[half] as number)) / 2;
  };
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const medians: number[] = [];
  const sample = new Array<number>(values.length);
  for (let draw = 0; draw < 2000; draw += 1) {
    for (let index = 0; index < values.length; index += 1) sample[index] = values[Math.floor(random() * values.length)] as number;
    medians.push(middle(sample));
  }
  medians.sort((a, b) => a - b);
  return { median: middle(values), low: medians[50] as number, high: medians[1949] as number };
}

/**
 * timeStreamedCall with what each probed tracker's passes did inside the call's window: `passCpu[i]` the CPU of
 * probe i's passes that ran in it, `passes[i]` how many, `onPath[i]` how many of those started before the stream's end
 * (on the caller's path). `drain`: the probe whose pending records to drain after this call's end (the last call of a
 * tracked client's block), inside its CPU time.
 */
export async function timeProbedCall(client: OpenAI, chunks: number, probes: readonly TrackerProbe[], drain?: TrackerProbe) {
  const cpuBefore = probes.map((probe) => probe.passCpu());
  const countBefore = probes.map((probe) => probe.passes.length);
  const measured = await timeStreamedCall(client, chunks, drain?.drain);
  const passCpu = probes.map((probe, index) => probe.passCpu() - (cpuBefore[index] as number));
  const passes = probes.map((probe, index) => probe.passes.length - (countBefore[index] as number));
  const onPath = probes.map((probe, index) => probe.passes.slice(countBefore[index]).filter((pass) => pass.start < measured.endedAt).length);
  return { ...measured, passCpu, passes, onPath };
}

/**
 * A tracked client's record work per call: the CPU of its probe's passes from pass `from` on, divided by the records
 * they ran (a mean, batch or not: a batch's cost is shared by its calls).
 */
export function recordCpuPerCall(probe: TrackerProbe, from: number): { perCall: number; wallPerCall: number; passes: number; calls: number } {
  const passes = probe.passes.slice(from);
  const calls = passes.reduce((sum, pass) => sum + pass.calls, 0);
  // The passes' wall time beside their CPU: process.cpuUsage() also counts V8's helper threads (compiler, GC) while a
  // pass runs, and a pass is synchronous on the main thread.
  const perCall = (pick: (pass: TrackerProbe['passes'][number]) => number) => (calls === 0 ? 0 : passes.reduce((sum, pass) => sum + pick(pass), 0) / calls);
  return { perCall: perCall((pass) => pass.cpu), wallPerCall: perCall((pass) => pass.wall), passes: passes.length, calls };
}
