// What a streamed call's garbage costs, bare and through one or more tracker builds: N streamed calls (201 chunks,
// back to back, the loopback fake in a process of its own) through one client in a Node process of its own, after a
// warm-up, with V8's GC trace (`--trace-gc-nvp`) switched on for the measured calls only. Per call: the bytes allocated (as the collections report them), scavenges, their
// pause, the bytes they copied within the young generation (survived) and promoted to the old one, mark-compacts and
// their pause, and the process's CPU. The byte counts and the scavenges' number do not depend on the machine's load
// (the pauses and the CPU do); the processes run in turns, round after round.
//
//   pnpm --filter @utt/bench exec tsx tracker/gc-stream.ts [--calls 1500] [--rounds 3] bare ../packages/tracker/dist <dist>…
//
// `bare`: the bare client with an idle tracker (the default build) in the process, as in run.ts and
// instructions-stream.mjs; a dist folder: the same client wrapped by that build's trackOpenAI.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const CHUNKS = 200;
const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--client') {
  const [, , , mode = 'bare', callsArg = '1500', warmupArg = '300'] = process.argv;
  const { default: OpenAI } = await import('openai');
  type Client = InstanceType<typeof OpenAI>;
  const { startStreamFake } = await import('./stream-fake');
  const fake = await startStreamFake({ chunks: CHUNKS });
  const folder = mode === 'bare' ? resolve(here, '../../packages/tracker/dist') : resolve(mode);
  const { createTracker } = (await import(pathToFileURL(`${folder}/index.js`).href)) as { createTracker: (options: object) => Promise<{ shutdown(): Promise<void> }> };
  const tracker = await createTracker({ application: 'bench', flushOnExit: false, sink: { specificationVersion: 'v1', async write() {} } });
  let client: Client = new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseURL });
  if (mode !== 'bare') {
    const { trackOpenAI } = (await import(pathToFileURL(`${folder}/openai.js`).href)) as { trackOpenAI: (client: Client, tracker: unknown) => Client };
    client = trackOpenAI(client, tracker);
  }
  const call = async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
    let chunks = 0;
    for await (const _ of stream) chunks += 1;
    if (chunks !== CHUNKS + 1) throw new Error(`${chunks} chunks`);
  };
  for (let index = 0; index < Number(warmupArg); index += 1) await call();
  const calls = Number(callsArg);
  setFlagsFromString('--trace-gc-nvp');
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let index = 0; index < calls; index += 1) await call();
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  setFlagsFromString('--no-trace-gc-nvp');
  process.stderr.write(`RESULT ${JSON.stringify({ cpuUs: (cpu.user + cpu.system) / calls, wallUs: (wall * 1000) / calls })}\n`);
  await tracker.shutdown();
  fake.close();
} else {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const at = args.indexOf(name);
    if (at === -1) return fallback;
    const [value] = args.splice(at, 2).slice(1);
    return value ?? fallback;
  };
  const calls = Number(option('--calls', '1500'));
  const rounds = Number(option('--rounds', '3'));
  const modes = args.length > 0 ? args : ['bare', '../packages/tracker/dist'];
  type Figures = { allocated: number; scavenges: number; scavengeMs: number; sweepMs: number; survived: number; promoted: number; marks: number; markMs: number; cpuUs: number; wallUs: number };
  const runClient = (mode: string) =>
    new Promise<Figures>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', mode, String(calls)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (data: Buffer) => (out += data.toString()));
      child.stderr.on('data', (data: Buffer) => (err += data.toString()));
      child.on('exit', (code) => {
        const result = /RESULT (.*)/.exec(err);
        if (code !== 0 || !result) return fail(new Error(`${mode}: exit ${code}\n${err}`));
        const figures: Figures = { allocated: 0, scavenges: 0, scavengeMs: 0, sweepMs: 0, survived: 0, promoted: 0, marks: 0, markMs: 0, ...(JSON.parse(result[1] as string) as { cpuUs: number; wallUs: number }) };
        for (const line of out.split('\n')) {
          const kind = / gc=(\w+) /.exec(line)?.[1];
          if (kind === undefined) continue;
          const field = (name: string) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
          figures.allocated += field('allocated');
          if (kind === 's') {
            figures.scavenges += 1;
            figures.scavengeMs += field('pause');
            figures.sweepMs += field('scavenge.sweep_array_buffers');
            figures.survived += field('new_space_survived');
            figures.promoted += field('promoted');
          } else {
            figures.marks += 1;
            figures.markMs += field('pause');
          }
        }
        done(figures);
      });
    });
  const load = async () => (await import('node:os')).loadavg().map((value) => value.toFixed(2)).join(' ');
  console.log(`${calls} calls per process after 300, ${rounds} round(s), in turns; load average ${await load()}`);
  console.log('mode | allocated B/call | scavenges /1000 calls | scavenge pause µs/call (of which sweeping array buffers) | survived B/call | promoted B/call | mark-compacts | mark pause µs/call | CPU µs/call | wall µs/call');
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of modes) {
      const f = await runClient(mode);
      console.log(
        [mode, (f.allocated / calls).toFixed(0), ((f.scavenges * 1000) / calls).toFixed(1), `${((f.scavengeMs * 1000) / calls).toFixed(1)} (${((f.sweepMs * 1000) / calls).toFixed(1)})`, (f.survived / calls).toFixed(0), (f.promoted / calls).toFixed(0), f.marks, ((f.markMs * 1000) / calls).toFixed(1), f.cpuUs.toFixed(0), f.wallUs.toFixed(0)].join(' | '),
      );
    }
  }
  console.log(`load average at the end ${await load()}`);
}
