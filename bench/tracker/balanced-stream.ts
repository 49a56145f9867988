// A/B with intervals: a bare client, a second bare client (the control) and one client per build of @utt/tracker (its
// dist folder), in one process, blocks of calls in a balanced order (stream-fake.ts, inBalancedBlocks), 201 chunks
// back to back from the loopback fake. Per round, each client's median over its block; printed, for the wall time to
// the stream's end, the CPU to that end and the CPU per call: each build against the mean of the two bare clients,
// the control against the bare client, and each later build against the first, as the median of the rounds' ratios
// with a 95 % interval (roundByRound). Where ab-stream.ts gives medians over the run, this says what a run can tell:
//
//   pnpm --filter @utt/bench exec tsx tracker/balanced-stream.ts <rounds> <block> <tracker dist folder>...
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { inBalancedBlocks, probeTracker, roundByRound, startStreamFake, timeProbedCall } from './stream-fake';

const [roundsArg = '300', blockArg = '20', ...builds] = process.argv.slice(2);
if (builds.length === 0) throw new Error('usage: tsx tracker/balanced-stream.ts <rounds> <block> <tracker dist folder>...');
const ROUNDS = Number(roundsArg);
const BLOCK = Number(blockArg);
// Two rounds to warm up.
const WARMUP = 2 * (BLOCK - 1);
const CHUNKS = 200;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

const fake = await startStreamFake({ chunks: CHUNKS });
const clients: Array<{ name: string; client: OpenAI }> = [
  { name: 'bare', client: new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL }) },
  { name: 'control', client: new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL }) },
];
const probes = new Map<string, ReturnType<typeof probeTracker>>();
const trackers: Array<{ shutdown(): Promise<void> }> = [];
for (const build of builds) {
  const folder = resolve(build);
  const { createTracker } = await import(pathToFileURL(`${folder}/index.js`).href);
  const { trackOpenAI } = await import(pathToFileURL(`${folder}/openai.js`).href);
  const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
  trackers.push(tracker);
  probes.set(build, probeTracker(tracker));
  clients.push({ name: build, client: trackOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL }), tracker) });
}
const allProbes = [...probes.values()];
type Measure = 'wall' | 'cpuToEnd' | 'cpu';
// Per round, per client, per measure: the block's counted calls.
const rounds = new Map<number, Map<string, Record<Measure, number[]>>>();
console.log(`${ROUNDS} rounds (2 to warm up) of ${clients.length} blocks of ${BLOCK} (the first call of each not counted), ${builds.length} build(s); load ${load()}`);
await inBalancedBlocks(clients, { warmup: WARMUP, calls: (ROUNDS - 2) * (BLOCK - 1), block: BLOCK }, async (entry, counted, lastOfBlock, round) => {
  const measured = await timeProbedCall(entry.client, CHUNKS, allProbes, lastOfBlock ? probes.get(entry.name) : undefined);
  if (!counted) return;
  const byClient = rounds.get(round) ?? new Map<string, Record<Measure, number[]>>();
  rounds.set(round, byClient);
  const times = byClient.get(entry.name) ?? { wall: [], cpuToEnd: [], cpu: [] };
  byClient.set(entry.name, times);
  times.wall.push(measured.wall);
  times.cpuToEnd.push(measured.cpuToEnd);
  times.cpu.push(measured.cpu);
});
fake.close();
for (const tracker of trackers) await tracker.shutdown();

const share = (estimate: { median: number; low: number; high: number }) => `${(estimate.median * 100).toFixed(2)} % [95 %: ${(estimate.low * 100).toFixed(2)}, ${(estimate.high * 100).toFixed(2)}]`;
for (const what of ['wall', 'cpuToEnd', 'cpu'] as const) {
  const perRound = [...rounds.values()]
    .filter((byClient) => byClient.size === clients.length)
    .map((byClient) => Object.fromEntries(clients.map(({ name }) => [name, median(byClient.get(name)?.[what] as number[])])) as Record<string, number>);
  const overall = clients.map(({ name }) => `${name} ${median(perRound.map((medians) => medians[name] as number)).toFixed(3)}`).join(', ');
  console.log(`${what} (${perRound.length} rounds; median of the rounds' medians, ms): ${overall}`);
  console.log(`  control / bare ${share(roundByRound(perRound, (medians) => (medians.control as number) / (medians.bare as number) - 1))}`);
  for (const build of builds) {
    console.log(`  ${build} / mean(bare, control) ${share(roundByRound(perRound, (medians) => (medians[build] as number) / (((medians.bare as number) + (medians.control as number)) / 2) - 1))}`);
  }
  for (const build of builds.slice(1)) {
    console.log(`  ${build} / ${builds[0]} ${share(roundByRound(perRound, (medians) => (medians[build] as number) / (medians[builds[0] as string] as number) - 1))}`);
  }
}
console.log(`load ${load()}`);
