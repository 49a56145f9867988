// Profiling aid for the stream part of run.ts: N streamed calls (201 chunks, back to back, the same loopback fake) through one
// client, bare or wrapped by trackOpenAI, in a process of its own, for `node --cpu-prof`:
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof-bare --import tsx tracker/profile-stream.ts bare 2000
//   node --cpu-prof --cpu-prof-dir=/tmp/prof-wrapped --import tsx tracker/profile-stream.ts wrapped 2000
//   node tracker/cpu-profile-summary.mjs /tmp/prof-wrapped/<the larger .cpuprofile> 60
//
// Two processes on a shared machine differ by more than the tracker costs: compare categories, not totals.
import { createTracker } from '@utt/tracker';
import { trackOpenAI } from '@utt/tracker/openai';
import OpenAI from 'openai';
import { startStreamFake } from './stream-fake';

const mode = process.argv[2] ?? 'wrapped';
const CALLS = Number(process.argv[3] ?? 2000);
const CHUNKS = 200;
const fake = await startStreamFake({ chunks: CHUNKS });
const baseURL = fake.baseURL;
const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
const client = mode === 'bare' ? new OpenAI({ apiKey: 'sk-bench', baseURL }) : trackOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL }), tracker);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < CALLS; i += 1) {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
  let chunks = 0;
  for await (const _ of stream) chunks += 1;
  if (chunks !== CHUNKS + 1) throw new Error('chunks');
}
const cpu = process.cpuUsage(cpu0);
console.log(mode, 'wall/call', ((performance.now() - t0) / CALLS).toFixed(3), 'ms cpu/call', ((cpu.user + cpu.system) / 1000 / CALLS).toFixed(3), 'ms recorded', tracker.stats().recorded);
await tracker.shutdown();
fake.close();
