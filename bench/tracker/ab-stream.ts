// A/B aid for the stream part of run.ts: two or more builds of @utt/tracker (their dist folders) in one process, each
// wrapping its own OpenAI client, against a bare client, with the same loopback fake (201 chunks, back to back), in
// blocks as run.ts does (their order shuffled each round). On a shared machine two processes differ by more than the
// tracker costs; in one process the load falls on every client alike, so the difference between builds is their code.
//
//   cp -r packages/tracker/dist packages/tracker/.tmp/base-dist      # before a change (.tmp/ is git-ignored)
//   pnpm turbo run build --filter=@utt/tracker                        # after it
//   pnpm --filter @utt/bench exec tsx tracker/ab-stream.ts 600 ../packages/tracker/.tmp/base-dist ../packages/tracker/dist
//
// Prints per client the median wall time to the stream's end and CPU time per call (one turn of the event loop after
// the end included, so deferred records count), the median call-by-call difference to the bare call, and for each
// build the median time of its deferred record where it runs (the steadiest of these figures under load).
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { inShuffledBlocks, startStreamFake, timeDeferredRecords, timeStreamedCall } from './stream-fake';

const [callsArg = '600', ...builds] = process.argv.slice(2);
if (builds.length === 0) throw new Error('usage: tsx tracker/ab-stream.ts <calls> <tracker dist folder>...');
const CALLS = Number(callsArg);
const WARMUP = Number(process.env.BENCH_STREAM_WARMUP ?? 50);
const BLOCK = Math.max(2, Number(process.env.BENCH_STREAM_BLOCK ?? 10));
const CHUNKS = 200;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

const fake = await startStreamFake({ chunks: CHUNKS });
const baseURL = fake.baseURL;

type TrackerModule = { createTracker: (options: object) => Promise<{ flush(): Promise<void>; shutdown(): Promise<void>; stats(): { recorded: number } }> };
type OpenAIModule = { trackOpenAI: (client: OpenAI, tracker: unknown) => OpenAI };
const clients: Array<{ name: string; client: OpenAI; tracker?: Awaited<ReturnType<TrackerModule['createTracker']>>; deferred?: number[] }> = [{ name: 'bare', client: new OpenAI({ apiKey: 'sk-bench', baseURL }) }];
for (const build of builds) {
  const folder = resolve(build);
  const { createTracker } = (await import(pathToFileURL(`${folder}/index.js`).href)) as TrackerModule;
  const { trackOpenAI } = (await import(pathToFileURL(`${folder}/openai.js`).href)) as OpenAIModule;
  const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
  clients.push({ name: build, client: trackOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL }), tracker), tracker, deferred: timeDeferredRecords(tracker) });
}

const once = (client: OpenAI) => timeStreamedCall(client, CHUNKS);

console.log(`A/B of ${builds.length} tracker build(s), ${CALLS} calls each after ${WARMUP}, blocks of ${BLOCK}; load average at start ${load()}`);
const times = clients.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
await inShuffledBlocks(clients.map((_, index) => index), { warmup: WARMUP, calls: CALLS, block: BLOCK }, async (index, counted) => {
  const measured = await once((clients[index] as (typeof clients)[number]).client);
  if (!counted) return;
  const into = times[index] as (typeof times)[number];
  into.wall.push(measured.wall);
  into.cpu.push(measured.cpu);
});
const bare = times[0] as (typeof times)[number];
const paired = (values: number[], base: number[]) => median(values.map((value, index) => value - (base[index] as number)));
clients.forEach((entry, index) => {
  const own = times[index] as (typeof times)[number];
  const wall = median(own.wall);
  const cpu = median(own.cpu);
  const extra = index === 0 ? '' : `  vs bare: wall ${(((wall / median(bare.wall)) - 1) * 100).toFixed(2)} % (call by call ${(paired(own.wall, bare.wall) * 1000).toFixed(1)} µs), CPU ${(((cpu / median(bare.cpu)) - 1) * 100).toFixed(2)} % (call by call ${(paired(own.cpu, bare.cpu) * 1000).toFixed(1)} µs)`;
  const deferred = entry.deferred && entry.deferred.length > 0 ? `; deferred record ${(median(entry.deferred.slice(WARMUP)) * 1000).toFixed(1)} µs (median of ${entry.deferred.length - WARMUP})` : '';
  console.log(`${entry.name.padEnd(40)} wall ${wall.toFixed(3)} ms  CPU ${cpu.toFixed(3)} ms${extra}${deferred}`);
});
for (const entry of clients) {
  if (entry.tracker) {
    await entry.tracker.flush();
    await entry.tracker.shutdown();
  }
}
console.log(`load average at end ${load()}`);
fake.close();
