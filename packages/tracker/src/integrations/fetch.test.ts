import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { createTracker, type Tracker } from '../create-tracker';
import { collectGarbageUntil } from '../test-support/collect-garbage';
import { FIXTURES, startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { pickRateLimitHeaders } from '../capture/rate-limit-headers';
import { trackFetch } from './fetch';

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let tracker: Tracker;
let calls: TrackedCall[];

beforeAll(async () => {
  fake = await startFakeProvider({ chunkBytes: 3 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  tracker = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
  calls = [];
  tracker.subscribe((call) => calls.push(call));
});

const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function readAll(response: Response): Promise<{ bytes: Buffer; chunks: number }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe('trackFetch (any OpenAI-compatible endpoint)', () => {
  it('hands the caller an SSE stream byte for byte, as it arrives, and records it when it ends', async () => {
    const fetch = trackFetch(tracker, { provider: 'openrouter' });
    const response = await fetch(`${fake.url}/api/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.url).toBe(`${fake.url}/api/v1/chat/completions`);
    const { bytes, chunks } = await readAll(response);
    expect(bytes.equals(FIXTURES.chatStreamUsage)).toBe(true);
    expect(chunks).toBeGreaterThan(10);
    await tracker.flush();
    expect(calls[0]).toMatchObject({ provider: 'openrouter', model: 'gpt-test', inputTokens: 50, outputTokens: 20, usageOrigin: 'stream', costUsd: '0.00026' });
  });

  it("puts a wrapper's tags over the scope's on the same key, and keeps the scope's and the defaults' other tags", async () => {
    const tagged = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, defaultTags: { team: 'core', feature: 'default' } });
    const seen: TrackedCall[] = [];
    tagged.subscribe((call) => seen.push(call));
    const fetch = trackFetch(tagged, { tags: { feature: 'search' } });
    await tagged.withTags({ tenant: 'acme', feature: 'scoped' }, async () => {
      await (await fetch(`${fake.url}/v1/responses`, post({ model: 'gpt-test', input: 'x' }))).text();
    });
    await tagged.shutdown();
    expect(seen[0]?.tags).toEqual({ team: 'core', tenant: 'acme', feature: 'search' });
  });

  it('hands a JSON body on unchanged and records it', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(new URL(`${fake.url}/v1/responses`), post({ model: 'gpt-test', input: 'x' }));
    const text = await response.text();
    expect(text).toBe(FIXTURES.responses.toString('utf8'));
    await tracker.flush();
    expect(calls[0]).toMatchObject({ provider: 'openai', operation: 'responses', usageOrigin: 'response', inputTokens: 1000 });
  });

  it('reads an Anthropic stream through a Request object', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(new Request(`${fake.url}/v1/messages`, post({ model: 'claude-test', stream: true, max_tokens: 5, messages: [] })));
    const { bytes } = await readAll(response);
    expect(bytes.equals(FIXTURES.anthropicStream)).toBe(true);
    await tracker.flush();
    expect(calls[0]).toMatchObject({ provider: 'anthropic', outputTokens: 42, cachedWrite1hTokens: 500 });
  });

  it('leaves other requests alone and records nothing for a failed one', async () => {
    const fetch = trackFetch(tracker);
    const missing = await fetch(`${fake.url}/v1/models`);
    expect(missing.status).toBe(404);
    const limited = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test-429', messages: [] }));
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    await tracker.flush();
    expect(calls).toHaveLength(0);
  });

  it('rejects (never throws) when the underlying fetch throws, on the usual path and the checked one, and records nothing', async () => {
    const failure = new TypeError('fetch failed before sending');
    const throwing = () => {
      throw failure;
    };
    const fetch = trackFetch(tracker, { fetch: throwing });
    // The usual call (no budget, no thread): no async function around it, so the throw must still become a rejection.
    const usual = fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, messages: [] }));
    expect(usual).toBeInstanceOf(Promise);
    await expect(usual).rejects.toBe(failure);
    // A Request's body is read first (the checked path).
    await expect(fetch(new Request(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', messages: [] })))).rejects.toBe(failure);
    await tracker.runThread('t-1', async () => {
      await expect(fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', messages: [] }))).rejects.toBe(failure);
    });
    await tracker.flush();
    expect(calls).toHaveLength(0);
  });

  it('records a stream the caller cancels as usage "unknown"', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await tracker.flush();
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', outputTokens: null });
  });

  it('records a stream aborted while a read is pending as usage "unknown", keeping what its first event said', async () => {
    const fetch = trackFetch(tracker);
    const abort = new AbortController();
    const response = await fetch(`${fake.url}/v1/chat/completions`, { ...post({ model: 'gpt-test-hang', stream: true, stream_options: { include_usage: true }, messages: [] }), signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // The fake sent two events and hangs: this read waits until the abort rejects it.
    const pending = reader.read();
    abort.abort();
    await expect(pending).rejects.toThrow();
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', streaming: true, model: 'gpt-test', responseId: 'chatcmpl-Str456', outputTokens: null });
  });

  it('observes an SSE body however the caller reads it: text(), async iteration, pipeThrough, tee, a byob reader', async () => {
    const expected = FIXTURES.chatStreamUsage.toString('utf8');
    const readers: Record<string, (body: ReadableStream<Uint8Array>, response: Response) => Promise<string>> = {
      text: (_body, response) => response.text(),
      iteration: async (body) => {
        expect(body).toBeInstanceOf(ReadableStream);
        const parts: Uint8Array[] = [];
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
        // As with Node's own iterator, the stream is free again at its end.
        expect(body.locked).toBe(false);
        return Buffer.concat(parts).toString('utf8');
      },
      pipeThrough: async (body) => {
        let decoded = '';
        for await (const text of body.pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>) decoded += text;
        return decoded;
      },
      tee: async (body) => {
        const [left, right] = body.tee();
        const [a, b] = await Promise.all([new Response(left).text(), new Response(right).text()]);
        expect(a).toBe(b);
        return a;
      },
      byob: async (body) => {
        const reader = body.getReader({ mode: 'byob' });
        const received: Buffer[] = [];
        for (;;) {
          const { done, value } = await reader.read(new Uint8Array(64));
          if (done) break;
          received.push(Buffer.from(value));
        }
        return Buffer.concat(received).toString('utf8');
      },
    };
    for (const [how, read] of Object.entries(readers)) {
      // A tracker each: the fixture's response id is the same every time, and a repeated id is not counted twice.
      const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
      const seen: TrackedCall[] = [];
      own.subscribe((call) => seen.push(call));
      const response = await trackFetch(own)(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
      expect(await read(response.body as ReadableStream<Uint8Array>, response), how).toBe(expected);
      await own.flush();
      expect(seen, how).toHaveLength(1);
      expect(seen[0], how).toMatchObject({ usageOrigin: 'stream', inputTokens: 50, outputTokens: 20, costUsd: '0.00026' });
    }
  });

  it('records a stream the caller leaves by breaking out of the iteration as usage "unknown", once', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
    for await (const _ of response.body as unknown as AsyncIterable<Uint8Array>) break;
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', outputTokens: null });
    const cut = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test-hang', stream: true, stream_options: { include_usage: true }, messages: [] }));
    await (cut.body as ReadableStream<Uint8Array>).cancel();
    await tracker.flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ usageOrigin: 'unknown' });
  });

  it('finds the usage at the end of long streams, whatever the size of the final event, and parses a stream past the hold limit as it goes', async () => {
    const chunk = (index: number) => `data: ${JSON.stringify({ id: 'chatcmpl-long', object: 'chat.completion.chunk', model: 'gpt-test', choices: [{ index: 0, delta: { content: `token${index} ` } }], usage: null })}\n\n`;
    const usageEvent = `data: ${JSON.stringify({ id: 'chatcmpl-long', model: 'gpt-test', choices: [], usage: { prompt_tokens: 50, completion_tokens: 20 } })}\n\ndata: [DONE]\n\n`;
    const bigText = 'x'.repeat(40_000);
    const completed = `event: response.completed\r\ndata: ${JSON.stringify({ type: 'response.completed', response: { id: 'resp_long', model: 'gpt-test', output_text: bigText, usage: { input_tokens: 50, output_tokens: 20 } } })}\r\n\r\n`;
    const served = (events: string[], pieceBytes: number) => async () => {
      const bytes = Buffer.from(events.join(''));
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let offset = 0; offset < bytes.length; offset += pieceBytes) controller.enqueue(bytes.subarray(offset, offset + pieceBytes));
            controller.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    };
    const cases: Array<{ name: string; events: string[]; path: string; origin: string; pieceBytes: number }> = [
      { name: 'chat, 2,000 deltas', events: [...Array.from({ length: 2000 }, (_, index) => chunk(index)), usageEvent], path: 'chat/completions', origin: 'stream', pieceBytes: 64 },
      // The final event is 20 × the first tail window, and split into 7-byte pieces.
      { name: 'responses, a 40 KB final event', events: [`event: response.created\r\ndata: {"type":"response.created","response":{"id":"resp_long","model":"gpt-test"}}\r\n\r\n`, ...Array.from({ length: 50 }, () => `event: response.output_text.delta\r\ndata: {"type":"response.output_text.delta","delta":"x"}\r\n\r\n`), completed], path: 'responses', origin: 'stream', pieceBytes: 7 },
      { name: 'chat past the hold limit (1.6 MB)', events: [...Array.from({ length: 12_000 }, (_, index) => chunk(index)), usageEvent], path: 'chat/completions', origin: 'stream', pieceBytes: 1000 },
      { name: 'chat without usage', events: Array.from({ length: 500 }, (_, index) => chunk(index)), path: 'chat/completions', origin: 'unknown', pieceBytes: 64 },
    ];
    for (const { name, events, path, origin, pieceBytes } of cases) {
      const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
      const seen: TrackedCall[] = [];
      own.subscribe((call) => seen.push(call));
      const response = await trackFetch(own, { fetch: served(events, pieceBytes) })(`http://provider.test/v1/${path}`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, input: 'x', messages: [] }));
      expect(await response.text(), name).toBe(events.join(''));
      await own.flush();
      expect(seen, name).toHaveLength(1);
      expect(seen[0], name).toMatchObject(
        origin === 'stream' ? { usageOrigin: 'stream', model: 'gpt-test', inputTokens: 50, outputTokens: 20 } : { usageOrigin: 'unknown', model: 'gpt-test', responseId: 'chatcmpl-long', outputTokens: null },
      );
    }
  });

  it('reads the first and last events of a stream whose multi-byte characters are cut between chunks', async () => {
    const model = 'gpt-tést-€😀';
    const chunk = (index: number) => `data: ${JSON.stringify({ id: 'chatcmpl-ü', model, choices: [{ index: 0, delta: { content: `tøken ${index} ✓😀 ` } }], usage: null })}\n\n`;
    const usageEvent = `data: ${JSON.stringify({ id: 'chatcmpl-ü', model, choices: [{ index: 0, delta: { content: 'ende ✓😀' } }], usage: { prompt_tokens: 50, completion_tokens: 20 } })}\n\ndata: [DONE]\n\n`;
    const text = [...Array.from({ length: 120 }, (_, index) => chunk(index)), usageEvent].join('');
    for (const pieceBytes of [1, 2, 3, 5, 4096]) {
      const bytes = Buffer.from(text);
      const served = servedInPieces(bytes, pieceBytes);
      const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
      const seen: TrackedCall[] = [];
      own.subscribe((call) => seen.push(call));
      const response = await trackFetch(own, { fetch: served })('http://provider.test/v1/chat/completions', post({ model: 'gpt-test', stream: true, messages: [] }));
      const { bytes: read } = await readAll(response);
      expect(read.equals(bytes), `${pieceBytes}-byte pieces`).toBe(true);
      await own.flush();
      expect(seen, `${pieceBytes}-byte pieces`).toHaveLength(1);
      expect(seen[0], `${pieceBytes}-byte pieces`).toMatchObject({ model, responseId: 'chatcmpl-ü', usageOrigin: 'stream', inputTokens: 50, outputTokens: 20 });
      await own.shutdown();
    }
  });

  it('records the same call however a stream is cut into chunks (events read whole, through the SSE parser, or both)', async () => {
    const crlf = (text: Buffer) => Buffer.from(text.toString('utf8').replaceAll('\n', '\r\n'));
    const streams = [
      { name: 'chat', path: 'chat/completions', bytes: FIXTURES.chatStreamUsage },
      { name: 'responses', path: 'responses', bytes: FIXTURES.responsesStream },
      { name: 'anthropic', path: 'messages', bytes: FIXTURES.anthropicStream },
      { name: 'anthropic, CRLF', path: 'messages', bytes: crlf(FIXTURES.anthropicStream) },
    ];
    const fields = ['provider', 'model', 'responseId', 'serviceTier', 'usageOrigin', 'inputTokens', 'outputTokens', 'cachedReadTokens', 'cachedWriteTokens', 'cachedWrite1hTokens', 'reasoningTokens', 'costUsd'] as const;
    // Without budgets a stream is looked at once it ended (its first and last reads); with one, chunk by chunk as it is read.
    const ways = [{ how: 'after the end' }, { how: 'as it is read', budgets: [{ period: 'day' as const, limitUsd: 1000, behavior: 'notify' as const }] }];
    for (const { name: stream, path, bytes, how, budgets } of streams.flatMap((each) => ways.map((way) => ({ ...each, ...way })))) {
      const name = `${stream}, ${how}`;
      const recorded: unknown[] = [];
      for (const pieceBytes of [1, 7, 100, bytes.length]) {
        const served = servedInPieces(bytes, pieceBytes);
        const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets });
        const seen: TrackedCall[] = [];
        own.subscribe((call) => seen.push(call));
        const response = await trackFetch(own, { fetch: served })(`http://provider.test/v1/${path}`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, input: 'x', messages: [] }));
        expect((await readAll(response)).bytes.equals(bytes), name).toBe(true);
        await own.shutdown();
        expect(seen, `${name}, ${pieceBytes}-byte pieces`).toHaveLength(1);
        const call = seen[0] as TrackedCall;
        expect(call.usageOrigin, `${name}, ${pieceBytes}-byte pieces`).toBe('stream');
        recorded.push(Object.fromEntries(fields.map((field) => [field, call[field]])));
      }
      for (const each of recorded.slice(1)) expect(each, name).toEqual(recorded[0]);
    }
  });

  it('takes from the head of a stream what its last events leave out, and only that', async () => {
    // A stream is read from its end first; its head is read only when the last events leave out the model, the id or
    // the service tier. Each case is recorded the same whether the body is one read (the end read first), one read per
    // event, 1- or 7-byte pieces (the usual head-then-tail reading), or read event by event as it arrives (a budget).
    const event = (fields: Record<string, unknown>) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', ...fields })}\n\n`;
    const content = (index: number, extra: Record<string, unknown> = {}) => event({ id: 'chatcmpl-h', model: 'gpt-test', choices: [{ index: 0, delta: { content: `token ${index} ` } }], usage: null, ...extra });
    const usage = (extra: Record<string, unknown>) => event({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 20 }, ...extra });
    const middle = Array.from({ length: 30 }, (_, index) => content(index + 1));
    const cases = [
      {
        name: 'the head names the tier, the usage chunk does not',
        events: [content(0, { service_tier: 'flex' }), ...middle, usage({ id: 'chatcmpl-h', model: 'gpt-test' })],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: 'flex' },
      },
      {
        name: 'the head names the model and the tier, the usage chunk only the id',
        events: [content(0, { model: 'gpt-test', service_tier: 'priority' }), ...middle, usage({ id: 'chatcmpl-h' })],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: 'priority' },
      },
      {
        name: 'the head names the model and a tier, the usage chunk the id and another tier (the head is read: its tier loses)',
        events: [content(0, { service_tier: 'flex' }), ...middle, usage({ id: 'chatcmpl-h', service_tier: 'priority' })],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: 'priority' },
      },
      {
        name: 'the usage chunk names all four (the head is not read: its tier loses)',
        events: [content(0, { service_tier: 'flex' }), ...middle, usage({ id: 'chatcmpl-h', model: 'gpt-test', service_tier: 'priority' })],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: 'priority' },
      },
      {
        name: 'usage in every chunk, the tier in one near the end and not in the last',
        events: [
          content(0, { usage: { prompt_tokens: 50, completion_tokens: 0 }, service_tier: 'flex' }),
          ...Array.from({ length: 30 }, (_, index) => content(index + 1, { usage: { prompt_tokens: 50, completion_tokens: index + 1 }, ...(index === 28 ? { service_tier: 'priority' } : {}) })),
          usage({ id: 'chatcmpl-h', model: 'gpt-test' }),
        ],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: 'priority' },
      },
      {
        name: 'no tier anywhere (an OpenAI-compatible server)',
        events: [content(0), ...middle, usage({ id: 'chatcmpl-h', model: 'gpt-test' })],
        expected: { model: 'gpt-test', responseId: 'chatcmpl-h', serviceTier: '' },
      },
    ];
    for (const { name, events, expected } of cases) {
      const bytes = Buffer.from(`${events.join('')}data: [DONE]\n\n`);
      const ways: Array<{ way: string; served: () => Promise<Response>; budgets?: Parameters<typeof createTracker>[0]['budgets'] }> = [
        { way: 'one read', served: servedInPieces(bytes, bytes.length) },
        { way: 'one read per event', served: servedAsEvents([...events, 'data: [DONE]\n\n']) },
        { way: '1-byte pieces', served: servedInPieces(bytes, 1) },
        { way: '7-byte pieces', served: servedInPieces(bytes, 7) },
        { way: 'read as it arrives', served: servedInPieces(bytes, 100), budgets: [{ period: 'day', limitUsd: 1000, behavior: 'notify' }] },
      ];
      for (const { way, served, budgets } of ways) {
        const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets });
        const seen: TrackedCall[] = [];
        own.subscribe((call) => seen.push(call));
        const response = await trackFetch(own, { fetch: served })('http://provider.test/v1/chat/completions', post({ model: 'gpt-request', stream: true, stream_options: { include_usage: true }, messages: [] }));
        expect((await readAll(response)).bytes.equals(bytes), `${name}, ${way}`).toBe(true);
        await own.shutdown();
        expect(seen, `${name}, ${way}`).toHaveLength(1);
        expect(seen[0], `${name}, ${way}`).toMatchObject({ ...expected, usageOrigin: 'stream', inputTokens: 50, outputTokens: 20 });
      }
    }
  });

  it('rejects with BudgetExceededError before sending when a per-call block budget cannot fit the worst case', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.01, behavior: 'block' }] });
    const fetch = trackFetch(budgeted);
    const before = fake.requests.length;
    // 2000 output tokens × $8/M = $0.016 > $0.01.
    const error = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', max_tokens: 2000, messages: [] })).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(fake.requests.length).toBe(before);
    await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', max_tokens: 100, messages: [] })).then((response) => response.text());
    expect(budgeted.totals().calls).toBe(1);
    await budgeted.shutdown();
  });

  it('gives back the budget hold of a response whose body is never read once it is garbage collected, and never makes later calls wait', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const fetch = trackFetch(budgeted);
    const request = { model: 'gpt-test', stream: true, stream_options: { include_usage: true }, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
    await (async () => {
      await fetch(`${fake.url}/v1/chat/completions`, post(request));
    })();
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeGreaterThan(0);
    // No max tokens (the worst case unknown before): still not in line behind the unread call.
    const { max_tokens: _, ...uncapped } = request;
    await fetch(`${fake.url}/v1/chat/completions`, post(uncapped)).then((response) => response.text());
    expect(await collectGarbageUntil(() => (budgeted.budgetStatus()[0]?.reservedUsd ?? 1) < 1e-12)).toBe(true);
    await budgeted.shutdown();
  });

  it('records a response whose body is never read (dropped, or errored unread) as usage "unknown" once it is garbage collected: once, streaming as known, latency to the headers', async () => {
    for (const budgets of [undefined, [{ period: 'day' as const, limitUsd: 10, behavior: 'block' as const }]]) {
      const own = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets });
      const seen: TrackedCall[] = [];
      own.subscribe((call) => seen.push(call));
      const fetch = trackFetch(own);
      const aborted = new AbortController();
      await (async () => {
        await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, max_tokens: 100, messages: [] }));
        await fetch(`${fake.url}/v1/messages`, post({ model: 'claude-test', max_tokens: 5, messages: [] }));
        await fetch(`${fake.url}/v1/chat/completions`, { ...post({ model: 'gpt-test-hang', stream: true, messages: [] }), signal: aborted.signal });
      })();
      aborted.abort();
      // Read to its end, and cancelled: recorded as ever, and not again when their bodies are collected.
      await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', messages: [] })).then((response) => response.text());
      await (await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, messages: [] }))).body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await collectGarbageUntil(() => own.totals().calls >= 5), `budgets: ${budgets !== undefined}`).toBe(true);
      await collectGarbageUntil(() => false, 5);
      expect(own.totals().calls).toBe(5);
      const described = seen.map((call) => [call.model, call.usageOrigin, call.streaming, call.outputTokens !== null]).sort();
      expect(described).toEqual([
        ['claude-test', 'unknown', false, false],
        ['gpt-test', 'response', false, true],
        ['gpt-test', 'unknown', true, false],
        ['gpt-test', 'unknown', true, false],
        ['gpt-test-hang', 'unknown', true, false],
      ]);
      const unread = seen.filter((call) => call.model === 'claude-test' || call.model === 'gpt-test-hang' || (call.usageOrigin === 'unknown' && call.requestId === 'req_' + (fake.requests.length - 4)));
      for (const call of unread) {
        expect(call).toMatchObject({ inputTokens: null, outputTokens: null, costUsd: null, unpricedReason: 'usage_unknown', responseId: null });
        expect(call.requestId).toMatch(/^req_/);
        // At its headers, not at its collection (300 ms later at least).
        expect(call.latencyMs).toBeLessThan(250);
      }
      expect(unread).toHaveLength(3);
      if (budgets) expect(own.budgetStatus()[0]?.reservedUsd).toBeLessThan(1e-12);
      await own.shutdown();
    }
  });

  it('records a body of a fetch polyfill (observed through a stream layer) dropped unread once it is garbage collected, and one read to its end once', async () => {
    class PolyfillStream<Chunk> extends ReadableStream<Chunk> {}
    const served = async () =>
      new Response(
        new PolyfillStream<Uint8Array>({
          start(controller) {
            controller.enqueue(FIXTURES.chat);
            controller.close();
          },
        }),
        { headers: { 'content-type': 'application/json', 'x-request-id': 'req_poly' } },
      );
    const fetch = trackFetch(tracker, { fetch: served });
    await (async () => {
      await fetch('http://provider.test/v1/chat/completions', post({ model: 'gpt-test', messages: [] }));
    })();
    expect(await (await fetch('http://provider.test/v1/chat/completions', post({ model: 'gpt-test', messages: [] }))).text()).toBe(FIXTURES.chat.toString('utf8'));
    expect(await collectGarbageUntil(() => tracker.totals().calls >= 2)).toBe(true);
    await collectGarbageUntil(() => false, 5);
    await tracker.flush();
    expect(calls.map((call) => [call.usageOrigin, call.streaming, call.requestId]).sort()).toEqual([
      ['response', false, 'req_poly'],
      ['unknown', false, 'req_poly'],
    ]);
  });

  it("records OpenAI's, Anthropic's and an OpenAI-compatible gateway's rate-limit headers and request id, as rate-limit-headers.ts reads them", async () => {
    // Header sets as the providers send them (names in any case: Headers lower-cases them), with headers that are not kept.
    const providers: Array<{ provider: string; headers: Record<string, string>; requestId: string }> = [
      {
        provider: 'openai',
        headers: {
          'X-Request-Id': 'req_openai',
          'x-ratelimit-limit-requests': '10000',
          'x-ratelimit-limit-tokens': '30000000',
          'x-ratelimit-remaining-requests': '9999',
          'x-ratelimit-remaining-tokens': '29999000',
          'x-ratelimit-reset-requests': '6ms',
          'x-ratelimit-reset-tokens': '2ms',
          'openai-processing-ms': '123',
          'openai-organization': 'org-test',
          'access-control-expose-headers': 'X-Request-ID',
        },
        requestId: 'req_openai',
      },
      {
        provider: 'anthropic',
        headers: {
          'request-id': 'req_anthropic',
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '49',
          'anthropic-ratelimit-requests-reset': '2026-12-07T12:00:01Z',
          'anthropic-ratelimit-tokens-limit': '100000',
          'anthropic-ratelimit-tokens-remaining': '99000',
          'anthropic-ratelimit-tokens-reset': '2026-12-07T12:00:02Z',
          'anthropic-ratelimit-input-tokens-limit': '80000',
          'anthropic-ratelimit-input-tokens-remaining': '79500',
          'anthropic-ratelimit-input-tokens-reset': '2026-12-07T12:00:03Z',
          'anthropic-ratelimit-output-tokens-limit': '20000',
          'anthropic-ratelimit-output-tokens-remaining': '19500',
          'anthropic-ratelimit-output-tokens-reset': '2026-12-07T12:00:04Z',
          'retry-after': '3',
          'anthropic-organization-id': 'org-test',
        },
        requestId: 'req_anthropic',
      },
      {
        provider: 'openrouter',
        headers: {
          'x-request-id': 'req_gateway',
          'request-id': 'req_other',
          'X-RateLimit-Limit': '200',
          'X-RateLimit-Remaining': '199',
          'X-RateLimit-Reset': '1765108800000',
          'x-ratelimit': 'see docs',
          'Retry-After': '1',
          'x-ratelimitless': 'not kept: neither x-ratelimit- nor x-ratelimit',
          'x-litellm-model-id': 'not kept',
          'retry-after-ms': 'not kept',
          'ratelimit-remaining': 'not kept',
        },
        requestId: 'req_gateway',
      },
    ];
    for (const { provider, headers, requestId } of providers) {
      const fetch = trackFetch(tracker, {
        provider,
        fetch: async () => new Response(FIXTURES.chatStreamUsage, { headers: { 'content-type': 'text/event-stream', ...headers } }),
      });
      const response = await fetch('https://gateway.test/v1/chat/completions', post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
      await readAll(response);
    }
    await tracker.flush();
    expect(calls).toHaveLength(3);
    for (const [index, { headers, requestId }] of providers.entries()) {
      // What rate-limit-headers.ts takes from a plain record of the same headers: the same names, values and order.
      const lowerCased = Object.fromEntries(new Response(null, { headers }).headers);
      const expected = pickRateLimitHeaders(lowerCased);
      expect(calls[index]?.rateLimitHeaders).toEqual(expected);
      expect(Object.keys(calls[index]?.rateLimitHeaders ?? {})).toEqual(Object.keys(expected ?? {}));
      expect(calls[index]?.requestId).toBe(requestId);
      expect(calls[index]).toMatchObject({ model: 'gpt-test', usageOrigin: 'stream', inputTokens: 50, outputTokens: 20 });
    }
    expect(calls[0]?.rateLimitHeaders).toEqual({
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-limit-tokens': '30000000',
      'x-ratelimit-remaining-requests': '9999',
      'x-ratelimit-remaining-tokens': '29999000',
      'x-ratelimit-reset-requests': '6ms',
      'x-ratelimit-reset-tokens': '2ms',
    });
    expect(Object.keys(calls[1]?.rateLimitHeaders ?? {})).toHaveLength(13);
    expect(calls[2]?.rateLimitHeaders).toEqual({
      'retry-after': '1',
      'x-ratelimit': 'see docs',
      'x-ratelimit-limit': '200',
      'x-ratelimit-remaining': '199',
      'x-ratelimit-reset': '1765108800000',
    });
  });
});

/** A fetch answering with `bytes` as an SSE body, enqueued `pieceBytes` at a time (characters and events cut anywhere). */
/** A body of one read per event, as a server that writes each event as it has it and a client that keeps up. */
function servedAsEvents(events: readonly string[]): () => Promise<Response> {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const event of events) controller.enqueue(Buffer.from(event));
          controller.close();
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    );
}

function servedInPieces(bytes: Buffer, pieceBytes: number): () => Promise<Response> {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += pieceBytes) controller.enqueue(bytes.subarray(offset, offset + pieceBytes));
          controller.close();
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    );
}
