// A load-independent measure of what @utt/tracker adds to a streamed call: the instructions (cachegrind's Ir) of a
// Node process making N streamed calls (201 chunks, from memory by default) through a bare `openai` client, and of one
// making N through the same client wrapped by `trackOpenAI`, each at two call counts; the per-call slope
// (Ir(N2) − Ir(N1)) / (N2 − N1) takes the process's start-up, imports and first compilations out, and wrapped − bare
// is the tracker's instructions per call: on the caller's path and in its records, and the garbage collector's work
// (split off by function name: the scavenges' phase against the calls moves it by tens of thousands per call from run
// to run, while the rest repeats to about 1k). Valgrind runs every thread on one core and counts them all.
//
//   pnpm turbo run build --filter=@utt/tracker...
//   node tracker/instructions-stream.mjs [--calls 50,150] [--cache-sim] [--runs bare,<dist>,<dist>…] [--keep=<folder>] [--no-queue-timer]
//
// `bare`: the bare client with an idle tracker in the process (loaded, created, never called), the baseline of the
// differences; `alone`: the bare client in a process without the tracker.
// `<dist>`: a tracker build's dist folder (default ../packages/tracker/dist; a copy such as
// packages/tracker/.tmp/main-dist resolves its dependencies through packages/tracker/node_modules). `--cache-sim`
// also simulates the caches (D1 and LL misses per call, in a simulated cache; about twice as slow; not used in the
// README's figures). Under valgrind a call takes ~0.3 s, so the
// tracker's record passes hold one record each (its 50 ms timer fires inside every call): the Ir per call counts
// every record, not how they batch.
//
// Internally, `node instructions-stream.mjs --client <alone|bare|dist> <calls> <port|memory>` is the process measured.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CHUNKS = 200;
const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * A fetch that answers every request with the fake's stream from memory: the same bytes, in the 5 reads a 201-chunk
 * stream comes in through the socket, a fresh response id per call. No socket, no timing: the process's instructions
 * are the same from run to run, so the tracker's few per call stand out.
 */
async function memoryFetch() {
  const { serveStream } = await import('./stream-fake-server.mjs');
  // The fake's events, taken once from a server of its own in this process and closed again.
  const server = await serveStream({ chunks: CHUNKS, intervalMs: 0, shape: 'openai' });
  const sample = await (await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, { method: 'POST', body: '{}' })).text();
  server.close();
  let served = 0;
  return async (_input, init) => {
    if (typeof init?.body === 'string') JSON.parse(init.body);
    served += 1;
    const bytes = Buffer.from(sample.replaceAll('chatcmpl-1', `chatcmpl-m${served}`));
    const parts = 5;
    // Cut at event ends, as the socket's reads mostly are.
    const cuts = [0];
    for (let part = 1; part < parts; part += 1) cuts.push(bytes.indexOf('\n\n', Math.floor((bytes.length * part) / parts)) + 2);
    cuts.push(bytes.length);
    let next = 0;
    const body = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (next === parts) return controller.close();
        controller.enqueue(new Uint8Array(bytes.subarray(cuts[next], cuts[next + 1])));
        next += 1;
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', date: new Date().toUTCString(), connection: 'keep-alive', 'transfer-encoding': 'chunked' } });
  };
}

if (process.argv[2] === '--client') {
  const [, , , mode, callsArg, port, queueTimer] = process.argv;
  // --no-queue-timer: the call queue writes only at the end (no 1 s flush timer in the run). Its timer fires by the
  // wall clock, so under valgrind (a call takes ~0.3 s, more under load) the writes per call follow the machine's speed:
  // two runs of one build then differ by 10–20k instructions per call.
  const queueOptions = queueTimer === 'no-queue-timer' ? { flushIntervalMs: 3_600_000, batchSize: 1_000_000 } : {};
  const { default: OpenAI } = await import('openai');
  const calls = Number(callsArg);
  const memory = port === 'memory';
  const baseURL = memory ? 'http://127.0.0.1:9/v1' : `http://127.0.0.1:${port}/v1`;
  const bare = new OpenAI({ apiKey: 'sk-bench', baseURL, fetch: memory ? await memoryFetch() : undefined });
  let client = bare;
  let tracker;
  if (mode === 'bare') {
    // The bare client beside an idle tracker (the default build, never called), as in run.ts: loading the tracker
    // changes what every JSON.parse in the process costs (see 'alone'), which is not what wrapping a client adds.
    const { createTracker } = await import(pathToFileURL(join(here, '../../packages/tracker/dist/index.js')).href);
    await createTracker({ application: 'bench', flushOnExit: false, ...queueOptions, sink: { specificationVersion: 'v1', async write() {} } });
  } else if (mode !== 'alone') {
    const folder = resolve(mode);
    const { createTracker } = await import(pathToFileURL(join(folder, 'index.js')).href);
    const { trackOpenAI } = await import(pathToFileURL(join(folder, 'openai.js')).href);
    tracker = await createTracker({ application: 'bench', flushOnExit: false, ...queueOptions, sink: { specificationVersion: 'v1', async write() {} } });
    client = trackOpenAI(bare, tracker);
  }
  for (let index = 0; index < calls; index += 1) {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
    let chunks = 0;
    for await (const _ of stream) chunks += 1;
    if (chunks !== CHUNKS + 1) throw new Error(`${chunks} chunks`);
    // A turn of the event loop between calls, as a service has (from memory, a call is all promises: without it the
    // tracker's pending records would wait for the end of the run).
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
  }
  if (tracker) {
    const recorded = tracker.stats().recorded;
    // A build cut short on purpose (a variant without its record) sets BENCH_ALLOW_UNRECORDED=1.
    if (recorded !== calls && process.env.BENCH_ALLOW_UNRECORDED !== "1") throw new Error(`${recorded} of ${calls} calls recorded`);
    await tracker.shutdown();
  }
  process.exit(0);
}

const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
};
const [fewer, more] = option('--calls', '50,150').split(',').map(Number);
const cacheSim = process.argv.includes('--cache-sim');
// Flags for the measured processes, e.g. --node-flags=--single-threaded (no concurrent compilation or GC threads).
// By default V8 runs predictably (one thread, a fixed GC schedule, fixed seeds): two runs of the same client then differ
// by about 0.02 % of a call (without these flags, by 1–5 %: concurrent compilation and time-driven GC steps).
const nodeFlags = (process.argv.find((arg) => arg.startsWith('--node-flags='))?.slice('--node-flags='.length) ?? '--single-threaded --predictable --predictable-gc-schedule --no-incremental-marking --no-memory-reducer --hash-seed=1 --random-seed=1').split(' ').filter(Boolean);
// --fetch=memory (default): the stream from memory, deterministic; --fetch=socket: from the fake in its own process.
const overSocket = process.argv.includes('--fetch=socket');
const runs = option('--runs', `bare,${join(here, '../../packages/tracker/dist')}`).split(',');

const server = overSocket ? spawn(process.execPath, [join(here, 'stream-fake-server.mjs'), JSON.stringify({ chunks: CHUNKS, intervalMs: 0, shape: 'openai' })], { stdio: ['pipe', 'pipe', 'inherit'] }) : undefined;
const port = !server ? 'memory' : await new Promise((resolvePort) => {
  let output = '';
  server.stdout.on('data', (data) => {
    output += data.toString();
    if (output.includes('\n')) resolvePort(Number(output.trim()));
  });
});

// --keep=<folder>: cachegrind's output files are kept there (<run>-<calls>.out), for cg_annotate or cg_diff.
const keep = process.argv.find((arg) => arg.startsWith('--keep='))?.slice('--keep='.length);
const folder = keep ?? mkdtempSync(join(tmpdir(), 'utt-instructions-'));
if (keep) mkdirSync(keep, { recursive: true });
/** Cachegrind's totals for one process: Ir, and with --cache-sim the D1 and LL misses (reads + writes). */
function measure(mode, calls) {
  const out = join(folder, `${mode.replaceAll('/', '_')}-${calls}-${Math.random().toString(36).slice(2, 6)}.out`);
  const args = ['--tool=cachegrind', `--cache-sim=${cacheSim ? 'yes' : 'no'}`, `--cachegrind-out-file=${out}`, process.execPath, ...nodeFlags, fileURLToPath(import.meta.url), '--client', mode, String(calls), String(port), process.argv.includes('--no-queue-timer') ? 'no-queue-timer' : 'queue-timer'];
  return new Promise((resolveRun, reject) => {
    const child = spawn('valgrind', args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (data) => {
      errors += data.toString();
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} ${calls}: exit ${code}\n${errors.slice(-2000)}`));
      const summary = readFileSync(out, 'utf8')
        .split('\n')
        .find((line) => line.startsWith('summary:'));
      const events = readFileSync(out, 'utf8')
        .split('\n')
        .find((line) => line.startsWith('events:'));
      const names = events.slice('events:'.length).trim().split(/\s+/);
      const values = summary.slice('summary:'.length).trim().split(/\s+/).map(Number);
      const total = Object.fromEntries(names.map((name, index) => [name, values[index]]));
      resolveRun({ ir: total.Ir, gc: garbageCollectorIr(readFileSync(out, 'utf8')), d1: (total.D1mr ?? 0) + (total.D1mw ?? 0), ll: (total.DLmr ?? 0) + (total.DLmw ?? 0) + (total.ILmr ?? 0), i1: total.I1mr ?? 0 });
    });
  });
}

/** V8's garbage collector's functions (scavenges, sweeping, mark-compact, evacuation), by name. */
const GARBAGE_COLLECTOR = /^(heap::base::|v8::internal::(Scavenger|Sweeper|MarkCompact|Evacuat|EvacuateVisitorBase|RememberedSet|BodyDescriptor|LiveObjectRange|PretenuringHandler|FreeList|PagedSpace|SemiSpace|NewSpace|EvacuationAllocator|RecordMigrated|MarkingVisitor|MainMarkingVisitor|ConcurrentMarking|HeapObject::SizeFromMap|Heap::|\(anonymous namespace\)::(RememberedSetUpdatingItem|IterateObjectCache)))|^(void|auto|heap::base::SlotCallbackResult) v8::internal::(Scavenger|BodyDescriptor|EvacuateVisitorBase|MarkCompact|Sweeper)/;

/** The Ir of a cachegrind output file's garbage-collector functions. */
function garbageCollectorIr(text) {
  let sum = 0;
  let inGc = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) inGc = GARBAGE_COLLECTOR.test(line.slice(3));
    else if (inGc && line.charCodeAt(0) >= 48 && line.charCodeAt(0) <= 57) sum += Number(line.split(' ')[1] ?? 0);
  }
  return sum;
}

const perCall = {};
// Every process at once: valgrind's counts do not depend on what else runs.
const measured = await Promise.all(runs.map((mode) => Promise.all([measure(mode, fewer), measure(mode, more)])));
for (const [index, mode] of runs.entries()) {
  const [low, high] = measured[index];
  const slope = (key) => (high[key] - low[key]) / (more - fewer);
  perCall[mode] = { ir: slope('ir'), gc: slope('gc'), d1: slope('d1'), ll: slope('ll'), i1: slope('i1') };
  const extra = cacheSim ? `, I1 misses ${perCall[mode].i1.toFixed(0)}, D1 misses ${perCall[mode].d1.toFixed(0)}, LL misses ${perCall[mode].ll.toFixed(0)}` : '';
  console.log(`${mode}: ${(perCall[mode].ir / 1000).toFixed(1)} k instructions per call, ${(perCall[mode].gc / 1000).toFixed(1)} k of them the garbage collector's (Ir ${low.ir} at ${fewer} calls, ${high.ir} at ${more})${extra}`);
}
const base = perCall.bare ?? perCall.alone;
if (base) {
  for (const mode of runs) {
    if (mode === 'bare' || (mode === 'alone' && !perCall.bare)) continue;
    const added = perCall[mode];
    const extra = cacheSim ? `; D1 misses ${(added.d1 - base.d1).toFixed(0)}, LL misses ${(added.ll - base.ll).toFixed(0)}, I1 misses ${(added.i1 - base.i1).toFixed(0)}` : '';
    console.log(`${mode} − ${perCall.bare ? 'bare' : 'alone'}: ${((added.ir - base.ir) / 1000).toFixed(1)} k instructions per call (${(((added.ir - base.ir) / base.ir) * 100).toFixed(2)} %), of which the garbage collector ${((added.gc - base.gc) / 1000).toFixed(1)} k and the rest ${((added.ir - added.gc - (base.ir - base.gc)) / 1000).toFixed(1)} k${extra}`);
  }
}
server?.stdin.end();
if (!keep) rmSync(folder, { recursive: true, force: true });
