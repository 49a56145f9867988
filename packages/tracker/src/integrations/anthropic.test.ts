import Anthropic from '@anthropic-ai/sdk';
import AnthropicV0 from 'anthropic-sdk-v0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../budget/budget-exhausted-error';
import { createTracker, type Tracker } from '../create-tracker';
import { startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackAnthropic } from './anthropic';

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
  tracker = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, threadBudget: { defaultMaxTokens: 10_000 } });
  calls = [];
  tracker.subscribe((call) => calls.push(call));
});

/** The lines of the peer range: each one's client is driven through the current major's types (the calls the tests make exist in both). */
type SdkLine = { readonly name: string; readonly modelTag: string; readonly client: (baseURL: string) => Anthropic };

const SDK_LINES: SdkLine[] = [
  { name: '@anthropic-ai/sdk 1', modelTag: 'v1', client: (baseURL) => new Anthropic({ apiKey: 'sk-ant-test-not-a-secret', baseURL }) },
  { name: '@anthropic-ai/sdk 0.101', modelTag: 'v0', client: (baseURL) => new AnthropicV0({ apiKey: 'sk-ant-test-not-a-secret', baseURL }) as unknown as Anthropic },
];

describe.each(SDK_LINES)('trackAnthropic with $name', (line) => {
  let client: Anthropic;
  beforeEach(() => {
    client = trackAnthropic(line.client(fake.url), tracker);
  });

  it('records a message: uncached input, cache reads, 5m/1h cache writes, thinking inside output, web searches', async () => {
    const message = await client.messages.create({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hi.' });
    await tracker.flush();
    expect(calls[0]).toMatchObject({
      provider: 'anthropic',
      model: 'claude-test',
      operation: 'messages',
      inputTokens: 100,
      cachedReadTokens: 5000,
      cachedWriteTokens: 3000,
      cachedWrite1hTokens: 2000,
      outputTokens: 400,
      reasoningTokens: 150,
      webSearches: 2,
      serviceTier: '',
      responseId: 'msg_01XyZ',
      // The fake numbers its requests: this one was the last.
      requestId: `req_${fake.requests.length}`,
      usageOrigin: 'response',
      // 100 × 3 + 5000 × 0.3 + 1000 × 3.75 + 2000 × 6 + 400 × 15 = 23 550 µ$, + 2 searches × $0.01
      costUsd: '0.04355',
    });
    expect(calls[0]?.rateLimitHeaders).toMatchObject({ 'anthropic-ratelimit-requests-remaining': '49' });
  });

  it('records a stream: the 1h split from message_start, cumulative message_delta counts overwritten, not added', async () => {
    const stream = await client.messages.create({ model: 'claude-test', max_tokens: 1024, messages: [], stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe('Hello there ✓');
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      inputTokens: 25,
      cachedReadTokens: 0,
      cachedWriteTokens: 500,
      cachedWrite1hTokens: 500,
      outputTokens: 42,
      usageOrigin: 'stream',
      streaming: true,
      responseId: 'msg_01Str',
      // 25 × 3 + 500 × 6 + 42 × 15 = 3705 µ$
      costUsd: '0.003705',
    });
  });

  it('records through the MessageStream helper too', async () => {
    const final = await client.messages.stream({ model: 'claude-test', max_tokens: 1024, messages: [] }).finalMessage();
    expect(final.usage.output_tokens).toBe(42);
    await tracker.flush();
    expect(calls[0]).toMatchObject({ outputTokens: 42, usageOrigin: 'stream' });
  });

  it('records an aborted stream as usage "unknown", keeping the input counts message_start reported', async () => {
    const stream = await client.messages.create({ model: 'claude-test-hang', max_tokens: 1024, messages: [], stream: true });
    for await (const _ of stream) {
      stream.controller.abort();
      break;
    }
    // Recorded by the time anything reads the tracker: totals() drains the pending records.
    expect(tracker.totals().unknownUsageCalls).toBe(1);
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', inputTokens: 25, cachedWriteTokens: 500, outputTokens: null });
    // Its output was billed and never reported: the input's price alone is not what it cost.
    expect(calls[0]).toMatchObject({ costUsd: null, priceRef: null, unpricedReason: 'usage_unknown' });
    expect(tracker.totals()).toMatchObject({ costUsd: 0, unpricedCalls: 1 });
  });

  it('records one call when the SDK retries a 429', async () => {
    // The fake limits each model once: one per line.
    const model = `claude-test-${line.modelTag}-429`;
    await client.messages.create({ model, max_tokens: 10, messages: [] });
    expect(fake.requests.filter((request) => request.body.model === model)).toHaveLength(2);
    await tracker.flush();
    expect(calls).toHaveLength(1);
  });

  it('blocks a thread whose token budget is spent with BudgetExhaustedError, and forgets the thread when it ends', async () => {
    const before = fake.requests.length;
    const result = await tracker.runThread(
      'session-1',
      async () => {
        await client.messages.create({ model: 'claude-test', max_tokens: 10, messages: [] });
        return client.messages.create({ model: 'claude-test', max_tokens: 10, messages: [] }).catch((error: unknown) => error);
      },
      { maxTokens: 5000 },
    );
    expect(BudgetExhaustedError.isInstance(result)).toBe(true);
    expect(result).toMatchObject({ threadId: 'session-1', maxTokens: 5000, usedTokens: 8500 });
    expect(fake.requests.length - before).toBe(1);
    expect(tracker.threads.usage('session-1')).toBeUndefined();
    expect(calls[0]?.threadId).toBe('session-1');
  });
});
