// Where a streamed call's time goes, stage by stage, for the bare client, a second bare client (the control) and one
// or more builds of @utt/tracker (their dist folders) in one process, blocks of 10 calls in a balanced order as
// run.ts and ab-stream.ts do, 201 chunks back to back from the same loopback fake (a process of its own):
//
//   pnpm --filter @utt/bench exec tsx tracker/stages-stream.ts 1500 ../packages/tracker/.tmp/base-dist ../packages/tracker/dist
//
// Each client's fetch is timed from outside (the tracker's wrapper, when there is one, inside the timing), so per
// call: pre, create() to the fetch (the SDK); net, the fetch to its response (the wrapper, the socket, the fake);
// head, the response to the SDK's stream; body, reading the stream to its end (the SDK's parse, the tracker's tap,
// and whatever the previous call's deferred record left in the caches). Medians of wall and process CPU time (µs).
// A build whose deferred record is cut out (a copy of dist with `this.later.defer(() => undefined)`) tells the tap
// apart from the record's aftermath.
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import OpenAI from 'openai';
import { inBalancedBlocks, startStreamFake } from './stream-fake';
const [callsArg = '1000', ...builds] = process.argv.slice(2);
if (builds.length === 0) throw new Error('usage: tsx tracker/stages-stream.ts <calls> <tracker dist folder>...');
const CALLS = Number(callsArg);
const WARMUP = Number(process.env.BENCH_STREAM_WARMUP ?? 50);
const BLOCK = 10;
const CHUNKS = 200;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fake = await startStreamFake({ chunks: CHUNKS });
const cpuNow = () => {
  const used = process.cpuUsage();
  return used.user + used.system;
};
// When the current call's fetch began and its response came (performance.now() ms, CPU µs).
const marks = { fetch: 0, cpuFetch: 0, response: 0, cpuResponse: 0 };
type FetchingClient = { fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response> };
function timed(client: OpenAI): OpenAI {
  const target = client as unknown as FetchingClient;
  const inner = target.fetch;
  target.fetch = (input, init) => {
    marks.fetch = performance.now();
    marks.cpuFetch = cpuNow();
    return inner(input, init).then((response) => {
      marks.response = performance.now();
      marks.cpuResponse = cpuNow();
      return response;
    });
  };
  return client;
}
type TrackerModule = { createTracker: (options: object) => Promise<object> };
type OpenAIModule = { trackOpenAI: (client: OpenAI, tracker: unknown) => OpenAI };
const clients: Array<{ name: string; client: OpenAI }> = [
  { name: 'bare', client: timed(new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL })) },
  { name: 'control', client: timed(new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL })) },
];
for (const build of builds) {
  const folder = resolve(build);
  const { createTracker } = (await import(pathToFileURL(`${folder}/index.js`).href)) as TrackerModule;
  const { trackOpenAI } = (await import(pathToFileURL(`${folder}/openai.js`).href)) as OpenAIModule;
  const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
  // The timing wraps the tracked fetch: the tracker's wrapper counts in `net`.
  clients.push({ name: build, client: timed(trackOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL }), tracker)) });
}
const stages = ['pre', 'net', 'head', 'body'] as const;
type Stage = (typeof stages)[number];
async function once(client: OpenAI): Promise<Record<Stage, [number, number]>> {
  const cpuStarted = cpuNow();
  const started = performance.now();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
  const created = performance.now();
  const cpuCreated = cpuNow();
  let received = 0;
  for await (const _ of stream) received += 1;
  const ended = performance.now();
  const cpuEnded = cpuNow();
  if (received !== CHUNKS + 1) throw new Error(`expected ${CHUNKS + 1} chunks, got ${received}`);
  // One more turn, as run.ts gives every client: the tracker records the call on it.
  await tick();
  return {
    pre: [(marks.fetch - started) * 1000, marks.cpuFetch - cpuStarted],
    net: [(marks.response - marks.fetch) * 1000, marks.cpuResponse - marks.cpuFetch],
    head: [(created - marks.response) * 1000, cpuCreated - marks.cpuResponse],
    body: [(ended - created) * 1000, cpuEnded - cpuCreated],
  };
}
const times = clients.map(() => Object.fromEntries(stages.map((stage) => [stage, { wall: [] as number[], cpu: [] as number[] }])) as Record<Stage, { wall: number[]; cpu: number[] }>);
await inBalancedBlocks(clients.map((_, index) => index), { warmup: WARMUP, calls: CALLS, block: BLOCK }, async (index, counted) => {
  const measured = await once((clients[index] as (typeof clients)[number]).client);
  if (!counted) return;
  const into = times[index] as (typeof times)[number];
  for (const stage of stages) {
    into[stage].wall.push(measured[stage][0]);
    into[stage].cpu.push(measured[stage][1]);
  }
});
console.log(`stages of a streamed call (${CHUNKS + 1} chunks back to back), median µs of ${CALLS} calls each after ${WARMUP}, blocks of ${BLOCK} in a balanced order`);
for (const stage of stages) {
  console.log(stage);
  clients.forEach((entry, index) => {
    const own = (times[index] as (typeof times)[number])[stage];
    const bare = (times[0] as (typeof times)[number])[stage];
    const extra = index === 0 ? '' : `  (CPU ${median(own.cpu) - median(bare.cpu) >= 0 ? '+' : ''}${(median(own.cpu) - median(bare.cpu)).toFixed(0)} vs bare)`;
    console.log(`  ${entry.name.padEnd(40)} wall ${median(own.wall).toFixed(0).padStart(5)}  CPU ${median(own.cpu).toFixed(0).padStart(5)}${extra}`);
  });
}
console.log(`load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
fake.close();
