import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createTracker, RECORD_BATCH, RECORD_DELAY_MS, type Tracker } from './create-tracker';
import { trackFetch } from './integrations/fetch';
import { trackOpenAI } from './integrations/openai';
import { FIXTURES, startFakeProvider } from './test-support/fake-provider';
import { testPrices } from './test-support/test-prices';
import type { TrackedCall } from './tracked-call';

// A streamed call's record is made off the caller's path, with those of other calls that ended meanwhile, in one
// pass: RECORD_BATCH pending records on the next turn, else RECORD_DELAY_MS after the first; and at once whenever
// anything reads or changes what records feed (totals, stats, budgets, flush, shutdown, subscribe, record).

const fixture = FIXTURES.chatStreamUsage.toString('utf8');

/** A fetch that answers in memory with the chat stream fixture under response id `chatcmpl-<n>`, in pieces of 1 KB. */
function memoryFetch(): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  let served = 0;
  return async () => {
    served += 1;
    const bytes = Buffer.from(fixture.replaceAll('chatcmpl-Str456', `chatcmpl-${served}`));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 1024) controller.enqueue(bytes.subarray(offset, offset + 1024));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }) };

let tracker: Tracker;
let fetch: ReturnType<typeof memoryFetch>;
const streamedCall = async () => {
  const response = await fetch('https://api.example.test/v1/chat/completions', request);
  for await (const _ of response.body as ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>) {
    // read to the end
  }
};

beforeEach(async () => {
  tracker = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
  fetch = trackFetch(tracker, { fetch: memoryFetch() });
});

describe('pending records', () => {
  it('are recorded in one pass RECORD_DELAY_MS after the first call ended, or on the next turn once RECORD_BATCH are pending', async () => {
    // The clock stands still (timers do not): only the timer and the batch's size can start a pass here.
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const seen: string[] = [];
    tracker.subscribe((call) => seen.push(call.responseId as string));
    for (let index = 0; index < 3; index += 1) await streamedCall();
    await nextTurn();
    expect(seen).toEqual([]);
    await sleep(RECORD_DELAY_MS + 20);
    expect(seen).toEqual(['chatcmpl-1', 'chatcmpl-2', 'chatcmpl-3']);

    seen.length = 0;
    for (let index = 0; index < RECORD_BATCH; index += 1) await streamedCall();
    await nextTurn();
    expect(seen).toHaveLength(RECORD_BATCH);
    expect(seen[0]).toBe('chatcmpl-4');
  });

  it('are recorded on the turn after a call that ends RECORD_DELAY_MS or more after the first of them (a pass on the timer waits for a stream being read)', async () => {
    const seen: string[] = [];
    tracker.subscribe((call) => seen.push(call.responseId as string));
    // The second stream's end comes after the timer has fired: the pass waits for it, and runs after it.
    const source = memoryFetch();
    let slowly = false;
    fetch = trackFetch(tracker, {
      fetch: async (input, init) => {
        const response = await source(input, init);
        if (!slowly) return response;
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) {
              await sleep(RECORD_DELAY_MS + 20);
              controller.close();
            } else controller.enqueue(value);
          },
        });
        return new Response(body, { headers: response.headers });
      },
    });
    await streamedCall();
    slowly = true;
    await streamedCall();
    await nextTurn();
    expect(seen).toEqual(['chatcmpl-1', 'chatcmpl-2']);
  });

  it('are in totals(), stats(), budgetStatus() and flush() right after a stream ends, with no turn in between', async () => {
    const written: TrackedCall[] = [];
    const withSink = await createTracker({
      application: 'test-app',
      prices: testPrices(),
      flushOnExit: false,
      sink: {
        specificationVersion: 'v1',
        async write(batch) {
          for (const call of batch) written.push(call);
        },
      },
    });
    const seen: TrackedCall[] = [];
    withSink.subscribe((call) => seen.push(call));
    fetch = trackFetch(withSink, { fetch: memoryFetch() });
    await streamedCall();
    expect(seen).toHaveLength(0);
    expect(withSink.totals()).toMatchObject({ calls: 1, inputTokens: 50, outputTokens: 20 });
    expect(seen).toHaveLength(1);
    await streamedCall();
    expect(withSink.stats()).toMatchObject({ recorded: 2, pending: 2 });
    await streamedCall();
    expect(withSink.budgetStatus()).toEqual([]);
    expect(withSink.totalsByModel()['gpt-test']?.calls).toBe(3);
    await streamedCall();
    await withSink.flush();
    expect(written.map((call) => call.responseId)).toEqual(['chatcmpl-1', 'chatcmpl-2', 'chatcmpl-3', 'chatcmpl-4']);
    await streamedCall();
    await withSink.shutdown();
    expect(written).toHaveLength(5);
    expect(seen.map((call) => call.responseId)).toEqual(written.map((call) => call.responseId));
  });

  it('are recorded before a call recorded by hand, before a new subscriber and before one leaves', async () => {
    const seen: string[] = [];
    const first = (call: TrackedCall) => seen.push(`first ${call.responseId}`);
    tracker.subscribe(first);
    await streamedCall();
    // Subscribing drains: the new subscriber is told of calls that end after it subscribed.
    tracker.subscribe((call) => seen.push(`second ${call.responseId}`));
    await streamedCall();
    // Leaving drains too: the call that ended while it was subscribed is its.
    tracker.unsubscribe(first);
    await streamedCall();
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1, responseId: 'by-hand' });
    expect(seen).toEqual(['first chatcmpl-1', 'first chatcmpl-2', 'second chatcmpl-2', 'second chatcmpl-3', 'second by-hand']);
  });

  it('go on past a subscriber that throws: every call reaches every other subscriber, and the errors are counted', async () => {
    const seen: string[] = [];
    tracker.subscribe(() => {
      throw new Error('subscriber broke');
    });
    tracker.subscribe((call) => seen.push(call.responseId as string));
    for (let index = 0; index < 5; index += 1) await streamedCall();
    expect(tracker.stats()).toMatchObject({ recorded: 5, subscriberErrors: 5 });
    expect(seen).toEqual(['chatcmpl-1', 'chatcmpl-2', 'chatcmpl-3', 'chatcmpl-4', 'chatcmpl-5']);
  });

  it('drained from inside a pass (a subscriber reading totals): the pass goes on in order, each call recorded once', async () => {
    const seen: Array<[string, number]> = [];
    tracker.subscribe((call) => seen.push([call.responseId as string, tracker.totals().calls]));
    const after: string[] = [];
    tracker.subscribe((call) => after.push(call.responseId as string));
    for (let index = 0; index < 4; index += 1) await streamedCall();
    expect(tracker.totals().calls).toBe(4);
    // Each subscriber is told of the calls in the order they ended; totals() inside the pass counts the calls
    // recorded so far in it, up to the one the subscriber is told of.
    expect(seen).toEqual([
      ['chatcmpl-1', 1],
      ['chatcmpl-2', 2],
      ['chatcmpl-3', 3],
      ['chatcmpl-4', 4],
    ]);
    expect(after).toEqual(['chatcmpl-1', 'chatcmpl-2', 'chatcmpl-3', 'chatcmpl-4']);
    expect(tracker.stats()).toMatchObject({ recorded: 4, duplicates: 0 });
  });

  it('count a response id once, within a pass and across passes', async () => {
    const same = memoryFetch();
    // Two responses under one id (a retried record): the fetch below answers chatcmpl-1 twice.
    let calls = 0;
    fetch = trackFetch(tracker, {
      fetch: async (input, init) => {
        calls += 1;
        return calls === 2 ? memoryFetch()(input, init) : same(input, init);
      },
    });
    await streamedCall();
    await streamedCall();
    expect(tracker.stats()).toMatchObject({ recorded: 1, duplicates: 1 });
    await streamedCall();
    expect(tracker.stats()).toMatchObject({ recorded: 2, duplicates: 1 });
    expect(tracker.totals().calls).toBe(2);
  });
});

describe('pending records through the OpenAI SDK and a socket', () => {
  let fake: Awaited<ReturnType<typeof startFakeProvider>>;
  beforeAll(async () => {
    fake = await startFakeProvider({ chunkBytes: 64 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('include a stream in totals() as soon as the caller has its end, and keep usage "unknown" calls', async () => {
    const client = trackOpenAI(new OpenAI({ apiKey: 'sk-test-not-a-secret', baseURL: `${fake.url}/v1` }), tracker);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) {
      // read to the end
    }
    expect(tracker.totals()).toMatchObject({ calls: 1, inputTokens: 50, outputTokens: 20, unknownUsageCalls: 0 });
    // Without include_usage (a tracker of its own: the fake answers with the same response id).
    const other = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
    const bare = await trackOpenAI(new OpenAI({ apiKey: 'sk-test-not-a-secret', baseURL: `${fake.url}/v1` }), other).chat.completions.create({ model: 'gpt-test', messages: [], stream: true });
    for await (const _ of bare) {
      // read to the end
    }
    expect(other.totals()).toMatchObject({ calls: 1, unknownUsageCalls: 1 });
  });

  it('include a stream read with a reader in totals() on the turn its last read reports the end', async () => {
    const tracked = trackFetch(tracker);
    for (let call = 1; call <= 3; call += 1) {
      const response = await tracked(`${fake.url}/v1/chat/completions`, request);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      // The caller's reaction to the read that reports the end runs after the tracker's: nothing in between.
      for (let result = await reader.read(); !result.done; result = await reader.read()) {
        // read to the end
      }
      const stats = tracker.stats();
      // (The fake answers every call with one response id: the second and third are duplicates, counted as such.)
      expect(stats.recorded + stats.duplicates).toBe(call);
    }
  });
});

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe.runIf(existsSync(dist))('the pending records timer', () => {
  it('does not keep a process alive: the records are drained when the event loop empties, with flushOnExit false', async () => {
    // A stream recorded by the built package in a process of its own: the process may end before RECORD_DELAY_MS
    // (the timer is unref'd), and its subscriber is then called from beforeExit, after the process's own listener.
    const script = `
      const { createTracker } = await import(${JSON.stringify(dist)});
      const { trackFetch } = await import(${JSON.stringify(fileURLToPath(new URL('../dist/fetch.js', import.meta.url)))});
      let exiting = false;
      process.on('beforeExit', () => { exiting = true; });
      const tracker = await createTracker({ application: 'exit-test', flushOnExit: false });
      tracker.subscribe((call) => console.log(JSON.stringify({ exiting, responseId: call.responseId })));
      const body = ${JSON.stringify(fixture)};
      const fetch = trackFetch(tracker, { fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }) });
      const response = await fetch('https://api.example.test/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', stream: true }) });
      await response.text();
    `;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (data: Buffer) => {
        text += data.toString();
      });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    expect(output.trim().split('\n').map((line) => JSON.parse(line))).toEqual([{ exiting: true, responseId: 'chatcmpl-Str456' }]);
  });
});
