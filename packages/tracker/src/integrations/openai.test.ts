import OpenAI from 'openai';
import OpenAIV60 from 'openai-v6-0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { createTracker, type Tracker } from '../create-tracker';
import { startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackOpenAI } from './openai';

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let tracker: Tracker;
let calls: TrackedCall[];

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  tracker = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
  calls = [];
  tracker.subscribe((call) => calls.push(call));
});

const buckets = (call: TrackedCall | undefined) => ({
  inputTokens: call?.inputTokens,
  outputTokens: call?.outputTokens,
  cachedReadTokens: call?.cachedReadTokens,
  cachedWriteTokens: call?.cachedWriteTokens,
  cachedWrite1hTokens: call?.cachedWrite1hTokens,
  reasoningTokens: call?.reasoningTokens,
});

/** The ends of the peer range: each one's client is driven through the newest's types (the calls the tests make exist in both). */
type SdkLine = {
  readonly name: string;
  /** In the fake's models, so that its once-only 429 is once per line. */
  readonly modelTag: string;
  readonly client: (baseURL: string) => OpenAI;
};

const SDK_LINES: SdkLine[] = [
  { name: 'openai 6.49', modelTag: 'v6-49', client: (baseURL) => new OpenAI({ apiKey: 'sk-test-not-a-secret', baseURL }) },
  { name: 'openai 6.0', modelTag: 'v6-0', client: (baseURL) => new OpenAIV60({ apiKey: 'sk-test-not-a-secret', baseURL }) as unknown as OpenAI },
];

// The missing-include_usage warning is given once per process: the first line to run sees it, the others must not.
let includeUsageWarningGiven = false;

describe.each(SDK_LINES)('trackOpenAI with $name', (line) => {
  let client: OpenAI;
  beforeEach(() => {
    client = trackOpenAI(line.client(`${fake.url}/v1`), tracker);
  });

  it('records a chat completion: non-overlapping buckets, the response model, id, tier, latency, rate-limit headers', async () => {
    const completion = await tracker.withTags({ tenant: 'acme' }, () =>
      client.chat.completions.create({ model: 'gpt-test-alias', messages: [{ role: 'user', content: '2+2?' }] }),
    );
    expect(completion.choices[0]?.message.content).toBe('Four.');
    await tracker.flush();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    // prompt 1200 = 900 uncached + 200 cache reads + 100 cache writes; reasoning 120 is inside output 300.
    expect(buckets(call)).toEqual({ inputTokens: 900, outputTokens: 300, cachedReadTokens: 200, cachedWriteTokens: 100, cachedWrite1hTokens: null, reasoningTokens: 120 });
    expect(call).toMatchObject({
      provider: 'openai',
      model: 'gpt-test',
      operation: 'chat.completions',
      responseId: 'chatcmpl-AbC123',
      serviceTier: '',
      streaming: false,
      usageOrigin: 'response',
      tags: { tenant: 'acme' },
      // The fake numbers its requests: this one was the last.
      requestId: `req_${fake.requests.length}`,
      // 900 × 2 + 200 × 0.5 + 100 × 2.5 + 300 × 8 = 4550 µ$
      costUsd: '0.00455',
    });
    expect(call?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(call?.rateLimitHeaders).toEqual({ 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-tokens': '6ms' });
  });

  it('records a streamed chat completion with include_usage when the stream ends, and the caller sees every chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) expect(calls).toHaveLength(0);
    }
    expect(text).toBe('Hello, wörld ✓');
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect(buckets(calls[0])).toEqual({ inputTokens: 50, outputTokens: 20, cachedReadTokens: 0, cachedWriteTokens: null, cachedWrite1hTokens: null, reasoningTokens: 0 });
    expect(calls[0]).toMatchObject({ streaming: true, usageOrigin: 'stream', responseId: 'chatcmpl-Str456', costUsd: '0.00026' });
  });

  it('records a stream once the caller has its end, off the caller\'s path; flush() and shutdown() wait for that record', async () => {
    let written: TrackedCall[] = [];
    const withSink = await createTracker({
      application: 'test-app',
      prices: testPrices(),
      flushOnExit: false,
      sink: {
        specificationVersion: 'v1',
        async write(batch) {
          written = [...written, ...batch];
        },
      },
    });
    const seen: TrackedCall[] = [];
    withSink.subscribe((call) => seen.push(call));
    const wrapped = trackOpenAI(line.client(`${fake.url}/v1`), withSink);
    const stream = await wrapped.chat.completions.create({ model: 'gpt-test', messages: [], stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) {
      // read to the end
    }
    // The caller has the whole stream before the call is priced and queued…
    expect(seen).toHaveLength(0);
    // …which happens with the pending records' next pass, and shutdown() runs it: it is written, not dropped.
    await withSink.shutdown();
    expect(seen).toHaveLength(1);
    expect(written.map((call) => call.eventId)).toEqual([seen[0]?.eventId]);
    expect(written[0]).toMatchObject({ usageOrigin: 'stream', inputTokens: 50, outputTokens: 20, streaming: true });
    expect(withSink.stats()).toMatchObject({ recorded: 1, written: 1, pending: 0, dropped: 0 });
  });

  it('rejects the read that reports a stream\'s end with BudgetExceededError for a raise budget, after recording it', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.0001, behavior: 'raise' }] });
    const seen: TrackedCall[] = [];
    budgeted.subscribe((call) => seen.push(call));
    const guarded = trackOpenAI(line.client(`${fake.url}/v1`), budgeted);
    const stream = await guarded.chat.completions.create({ model: 'gpt-test', messages: [], stream: true, stream_options: { include_usage: true } });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    // Every chunk reached the caller; the end came as the budget's error, with the call already recorded.
    expect(text).toBe('Hello, wörld ✓');
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(seen).toHaveLength(1);
    expect((error as BudgetExceededError).event?.costUsd).toBe('0.00026');
    await budgeted.shutdown();
  });

  it('records a stream without include_usage as usage "unknown" (reported, never dropped), and warns once that include_usage is missing', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true });
      for await (const _ of stream) {
        // read to the end
      }
      await tracker.flush();
      // process.emitWarning delivers on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', inputTokens: null, outputTokens: null, costUsd: null, unpricedReason: 'usage_unknown', responseId: 'chatcmpl-Str456' });
    expect(tracker.totals().unknownUsageCalls).toBe(1);
    // The absence is reported, naming the option to set, not only recorded (once per process).
    const expected = includeUsageWarningGiven ? [] : ['utt tracker: a streamed chat completion without stream_options.include_usage has no usage; it is recorded with usage origin "unknown"'];
    includeUsageWarningGiven = true;
    expect(warnings.map((warning) => warning.message)).toEqual(expected);
  });

  it('records an aborted stream as usage "unknown"', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-test-hang', messages: [], stream: true, stream_options: { include_usage: true } });
    let seen = 0;
    for await (const _ of stream) {
      seen += 1;
      stream.controller.abort();
      break;
    }
    expect(seen).toBe(1);
    // Recorded by the time anything reads the tracker: totals() drains the pending records.
    expect(tracker.totals().unknownUsageCalls).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', streaming: true, model: 'gpt-test', inputTokens: null });
  });

  it('records the Responses API, with the flex tier at half price', async () => {
    const response = await client.responses.create({ model: 'gpt-test', input: 'hi', service_tier: 'flex' });
    expect(response.output_text).toBe('Done.');
    await tracker.flush();
    expect(buckets(calls[0])).toEqual({ inputTokens: 1000, outputTokens: 500, cachedReadTokens: 1000, cachedWriteTokens: 0, cachedWrite1hTokens: null, reasoningTokens: 200 });
    // (1000 × 2 + 1000 × 0.5 + 500 × 8) × 0.5
    expect(calls[0]).toMatchObject({ operation: 'responses', serviceTier: 'flex', responseId: 'resp_789', costUsd: '0.00325', labels: { service_tier: 'flex' } });
  });

  it('records a streamed Responses call from response.completed', async () => {
    const stream = await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['response.created', 'response.output_text.delta', 'response.completed']);
    await tracker.flush();
    expect(calls[0]).toMatchObject({ usageOrigin: 'stream', streaming: true, inputTokens: 1000, outputTokens: 500, costUsd: '0.00325' });
  });

  it('records embeddings (input only: no output bucket)', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-test', input: 'hello' });
    expect(result.data[0]?.embedding).toHaveLength(3);
    await tracker.flush();
    expect(buckets(calls[0])).toEqual({ inputTokens: 8, outputTokens: null, cachedReadTokens: null, cachedWriteTokens: null, cachedWrite1hTokens: null, reasoningTokens: null });
    expect(calls[0]).toMatchObject({ operation: 'embeddings', costUsd: '0.0000008' });
  });

  it('records one call when the SDK retries a 429', async () => {
    const model = `gpt-test-${line.modelTag}-429`;
    await client.chat.completions.create({ model, messages: [] });
    expect(fake.requests.filter((request) => request.body.model === model)).toHaveLength(2);
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.model).toBe('gpt-test');
  });

  it('keeps withResponse() and the raw response working', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-test', messages: [] }).withResponse();
    expect(data.id).toBe('chatcmpl-AbC123');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    await tracker.flush();
    expect(calls).toHaveLength(1);
  });

  it('refuses a call over a block budget before it is sent, with BudgetExceededError', async () => {
    const budgeted = await createTracker({
      application: 'test-app',
      prices: testPrices(),
      flushOnExit: false,
      budgets: [{ period: 'day', limitUsd: 0.005, behavior: 'block' }],
    });
    const guarded = trackOpenAI(line.client(`${fake.url}/v1`), budgeted);
    await guarded.chat.completions.create({ model: 'gpt-test', messages: [] });
    const before = fake.requests.length;
    const error = await guarded.chat.completions.create({ model: 'gpt-test', messages: [] }).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect((error as BudgetExceededError).breach).toMatchObject({ budgetType: 'day', behavior: 'block', limitUsd: 0.005 });
    expect(fake.requests.length).toBe(before);
    await budgeted.shutdown();
  });

  it('records, then throws BudgetExceededError for a raise budget', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.001, behavior: 'raise' }] });
    const guarded = trackOpenAI(line.client(`${fake.url}/v1`), budgeted);
    const error = await guarded.chat.completions.create({ model: 'gpt-test', messages: [] }).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect((error as BudgetExceededError).event?.costUsd).toBe('0.00455');
    expect(budgeted.totals().calls).toBe(1);
    await budgeted.shutdown();
  });
});

describe('a budget scoped to a model, when the response names its dated snapshot', () => {
  it('counts the calls recorded under the snapshot (gpt-test asked, gpt-test-2026-01-15 answered): the next call over the limit is refused', async () => {
    const snapshotFake = await startFakeProvider({ snapshots: { 'gpt-test': 'gpt-test-2026-01-15' } });
    const budgeted = await createTracker({
      application: 'test-app',
      prices: testPrices(),
      flushOnExit: false,
      budgets: [{ name: 'gpt-test-day', period: 'day', limitUsd: 0.005, behavior: 'block', scope: { model: 'gpt-test' } }],
    });
    const guarded = trackOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${snapshotFake.url}/v1`, maxRetries: 0 }), budgeted);
    const first = await guarded.chat.completions.create({ model: 'gpt-test', messages: [] });
    expect(first.model).toBe('gpt-test-2026-01-15');
    expect(budgeted.budgetStatus()[0]).toMatchObject({ budget: 'gpt-test-day', spentUsd: 0.00455 });
    const before = snapshotFake.requests.length;
    const error = await guarded.chat.completions.create({ model: 'gpt-test', messages: [] }).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(snapshotFake.requests.length).toBe(before);
    expect(budgeted.totals().calls).toBe(1);
    await budgeted.shutdown();
    await snapshotFake.close();
  });
});
