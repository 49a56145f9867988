// A/B aid for the stream part of run.ts: two or more builds of @utt/tracker (their dist folders) in one process, each
// wrapping its own OpenAI client, against a bare client, with the same loopback fake (201 chunks, back to back), in
// blocks as run.ts does (their order balanced: stream-fake.ts, inBalancedBlocks). On a shared machine two processes differ by more than the
// tracker costs; in one process the load falls on every client alike, so the difference between builds is their code.
//
//   cp -r packages/tracker/dist packages/tracker/.tmp/base-dist      # before a change (.tmp/ is git-ignored)
//   pnpm turbo run build --filter=@utt/tracker                        # after it
//   pnpm --filter @utt/bench exec tsx tracker/ab-stream.ts 600 ../packages/tracker/.tmp/base-dist ../packages/tracker/dist
//
// Prints per client the wall time to the stream's end (p50, p95, p99: batching moves work to the tail), the CPU time to
// the end (the caller's path), and the CPU time per call with the tracker's record passes attributed to their build
// wherever they ran (the call's CPU less any pass inside its window, plus the build's pass CPU per recorded call: a
// build that records in batches would otherwise put a batch's cost in whichever client's block it lands); the median
// call-by-call differences to the bare call; and for each build its records' median time where they ran and how its
// passes fell. A batching build's pending records are drained after the last call of each of its blocks.
// Also per client: the garbage collections (scavenges, others) that started inside its counted calls' windows and
// their pause per call (PerformanceObserver('gc')): the heap is the process's, so read it as a hint, not a split.
import { loadavg } from 'node:os';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { inBalancedBlocks, percentile, probeTracker, recordCpuPerCall, startStreamFake, type TrackerProbe, timeProbedCall } from './stream-fake';

const [callsArg = '600', ...builds] = process.argv.slice(2);
if (builds.length === 0) throw new Error('usage: tsx tracker/ab-stream.ts <calls> <tracker dist folder>...');
const CALLS = Number(callsArg);
const WARMUP = Number(process.env.BENCH_STREAM_WARMUP ?? 50);
const BLOCK = Math.max(2, Number(process.env.BENCH_STREAM_BLOCK ?? 10));
const CHUNKS = 200;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

const fake = await startStreamFake({ chunks: CHUNKS });
const baseURL = fake.baseURL;

type TrackerModule = { createTracker: (options: object) => Promise<{ flush(): Promise<void>; shutdown(): Promise<void>; stats(): { recorded: number } }> };
type OpenAIModule = { trackOpenAI: (client: OpenAI, tracker: unknown) => OpenAI };
const clients: Array<{ name: string; client: OpenAI; tracker?: Awaited<ReturnType<TrackerModule['createTracker']>>; probe?: TrackerProbe }> = [{ name: 'bare', client: new OpenAI({ apiKey: 'sk-bench', baseURL }) }];
for (const build of builds) {
  const folder = resolve(build);
  const { createTracker } = (await import(pathToFileURL(`${folder}/index.js`).href)) as TrackerModule;
  const { trackOpenAI } = (await import(pathToFileURL(`${folder}/openai.js`).href)) as OpenAIModule;
  const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
  clients.push({ name: build, client: trackOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL }), tracker), tracker, probe: probeTracker(tracker) });
}
const probes = clients.flatMap((entry) => (entry.probe ? [entry.probe] : []));

console.log(`A/B of ${builds.length} tracker build(s), ${CALLS} calls each after ${WARMUP}, blocks of ${BLOCK}; load average at start ${load()}`);
const times = clients.map(() => ({ wall: [] as number[], cpuToEnd: [] as number[], cpu: [] as number[], own: [] as number[], passes: [] as number[], onPath: [] as number[], windows: [] as Array<[number, number]> }));
// The garbage collector's pauses, each given to the counted call whose window (its start to the turn after its end)
// it started in: the heap is the process's, but garbage made and kept by one client's calls is collected mostly in them.
const collections: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push(entry);
});
gcObserver.observe({ entryTypes: ['gc'] });
let countedFromPass: number[] | undefined;
await inBalancedBlocks(clients.map((_, index) => index), { warmup: WARMUP, calls: CALLS, block: BLOCK }, async (index, counted, lastOfBlock) => {
  const entry = clients[index] as (typeof clients)[number];
  if (counted && countedFromPass === undefined) countedFromPass = probes.map((probe) => probe.passes.length);
  const measured = await timeProbedCall(entry.client, CHUNKS, probes, lastOfBlock ? entry.probe : undefined);
  if (!counted) return;
  const into = times[index] as (typeof times)[number];
  into.wall.push(measured.wall);
  into.cpuToEnd.push(measured.cpuToEnd);
  into.cpu.push(measured.cpu);
  into.own.push(measured.cpu - measured.passCpu.reduce((sum, cpu) => sum + cpu, 0));
  into.windows.push([measured.startedAt, measured.finishedAt]);
  measured.passes.forEach((count, probe) => {
    into.passes[probe] = (into.passes[probe] ?? 0) + count;
    into.onPath[probe] = (into.onPath[probe] ?? 0) + (measured.onPath[probe] as number);
  });
});
await new Promise((resolveTurn) => setImmediate(resolveTurn));
gcObserver.disconnect();
/** Per counted call of a client: minor (scavenge) and major collections started in its windows, and their pause (ms). */
const gcOf = (windows: ReadonlyArray<[number, number]>) => {
  const sorted = [...windows].sort((a, b) => a[0] - b[0]);
  let minor = 0;
  let major = 0;
  let pause = 0;
  for (const entry of collections) {
    // Binary search for the last window starting at or before the collection.
    let low = 0;
    let high = sorted.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((sorted[middle] as [number, number])[0] <= entry.startTime) low = middle;
      else high = middle - 1;
    }
    const window = sorted[low];
    if (window === undefined || entry.startTime < window[0] || entry.startTime > window[1]) continue;
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === 1) minor += 1;
    else major += 1;
    pause += entry.duration;
  }
  const calls = windows.length;
  return `GC in its calls: ${((minor * 1000) / calls).toFixed(1)} scavenges and ${((major * 1000) / calls).toFixed(1)} other collections per 1,000 calls, pause ${((pause * 1000) / calls).toFixed(1)} µs per call (mean)`;
};
const bare = times[0] as (typeof times)[number];
const paired = (values: number[], base: number[]) => median(values.map((value, index) => value - (base[index] as number)));
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const pct = (ratio: number) => `${((ratio - 1) * 100).toFixed(2)} %`;
clients.forEach((entry, index) => {
  const own = times[index] as (typeof times)[number];
  const wall = median(own.wall);
  const tail = `p50 ${wall.toFixed(3)} p95 ${percentile(own.wall, 95).toFixed(3)} p99 ${percentile(own.wall, 99).toFixed(3)} ms`;
  console.log(`${entry.name}`);
  if (index === 0) {
    console.log(`  wall ${tail}; CPU to the end ${median(own.cpuToEnd).toFixed(3)} ms; CPU per call ${median(own.own).toFixed(3)} ms (mean ${mean(own.own).toFixed(3)} ms)`);
    console.log(`  ${gcOf(own.windows)}`);
  } else {
    const probeIndex = probes.indexOf(entry.probe as TrackerProbe);
    const records = recordCpuPerCall(entry.probe as TrackerProbe, countedFromPass?.[probeIndex] ?? 0);
    const attributed = median(own.own) + records.perCall;
    console.log(`  wall ${tail}; vs bare ${pct(wall / median(bare.wall))} (p99 ${pct(percentile(own.wall, 99) / percentile(bare.wall, 99))}), call by call ${us(paired(own.wall, bare.wall))}`);
    console.log(`  CPU to the end ${median(own.cpuToEnd).toFixed(3)} ms, call by call ${us(paired(own.cpuToEnd, bare.cpuToEnd))}`);
    console.log(
      `  CPU per call with its record passes attributed: ${median(own.own).toFixed(3)} ms + ${us(records.perCall)} per call (${records.calls} records in ${records.passes} passes) = ${attributed.toFixed(3)} ms, ${pct(attributed / median(bare.own))} vs bare; call by call ${us(paired(own.own, bare.own) + records.perCall)}`,
    );
    // The mean, beside the median: a pass's aftermath in the caches falls on the next call alone, which a median hides.
    console.log(`  the same as means: ${mean(own.own).toFixed(3)} ms + ${us(records.perCall)} = ${(mean(own.own) + records.perCall).toFixed(3)} ms, ${us(mean(own.own) + records.perCall - mean(bare.own))} more than bare`);
    console.log(`  ${gcOf(own.windows)}`);
    const elsewhere = times.reduce((sum, other, otherIndex) => (otherIndex === index ? sum : sum + (other.passes[probeIndex] ?? 0)), 0);
    const records1 = (entry.probe as TrackerProbe).records.slice(WARMUP);
    console.log(`  its record passes' wall time: ${us(records.wallPerCall)} per call (CPU ${us(records.perCall)}); its records where they ran: median ${us(median(records1))}, mean ${us(mean(records1))} each; its passes: ${own.passes[probeIndex] ?? 0} in its own counted calls (${own.onPath[probeIndex] ?? 0} before the call's end), ${elsewhere} in other clients' counted calls`);
  }
});
for (const entry of clients) {
  if (entry.tracker) {
    await entry.tracker.flush();
    await entry.tracker.shutdown();
  }
}
console.log(`load average at end ${load()}`);
fake.close();
