import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkUsageBuckets } from '../capture/ai-sdk-usage';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { createTracker, type Tracker } from '../create-tracker';
import { startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { uttMiddleware } from './ai-sdk';

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

const openai = () => createOpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1` });
const anthropic = () => createAnthropic({ apiKey: 'sk-ant-test', baseURL: `${fake.url}/v1` });

describe('uttMiddleware (ai 6)', () => {
  it('records generateText through @ai-sdk/openai with tags from providerOptions.utt', async () => {
    const model = wrapLanguageModel({ model: openai().chat('gpt-test'), middleware: uttMiddleware(tracker) });
    const result = await generateText({ model, prompt: '2+2?', providerOptions: { utt: { feature: 'math' } } });
    expect(result.text).toBe('Four.');
    expect(calls[0]).toMatchObject({
      provider: 'openai',
      model: 'gpt-test',
      inputTokens: 900,
      cachedReadTokens: 200,
      cachedWriteTokens: 100,
      outputTokens: 300,
      reasoningTokens: 120,
      responseId: 'chatcmpl-AbC123',
      usageOrigin: 'response',
      tags: { feature: 'math' },
      costUsd: '0.00455',
    });
    expect(calls[0]?.rateLimitHeaders).toMatchObject({ 'x-ratelimit-remaining-requests': '499' });
  });

  it('records streamText when the stream finishes', async () => {
    const model = wrapLanguageModel({ model: openai().chat('gpt-test'), middleware: uttMiddleware(tracker) });
    const result = streamText({ model, prompt: 'hi' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello, wörld ✓');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ streaming: true, usageOrigin: 'stream', inputTokens: 50, outputTokens: 20, responseId: 'chatcmpl-Str456' });
  });

  it('rebuilds Anthropic buckets from the raw usage, 1-hour cache writes included', async () => {
    const model = wrapLanguageModel({ model: anthropic()('claude-test'), middleware: uttMiddleware(tracker) });
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]).toMatchObject({ provider: 'anthropic', inputTokens: 100, cachedReadTokens: 5000, cachedWriteTokens: 3000, cachedWrite1hTokens: 2000, outputTokens: 400 });
    const streamed = streamText({ model, prompt: 'hi' });
    for await (const _ of streamed.textStream) {
      // drain
    }
    expect(calls[1]).toMatchObject({ inputTokens: 25, cachedWriteTokens: 500, cachedWrite1hTokens: 500, outputTokens: 42, usageOrigin: 'stream' });
  });

  it('refuses before the call is sent when a block budget is spent', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.001, behavior: 'block' }] });
    const model = wrapLanguageModel({ model: openai().chat('gpt-test'), middleware: uttMiddleware(budgeted) });
    const before = fake.requests.length;
    const error = await generateText({ model, prompt: 'hi', maxOutputTokens: 1000, maxRetries: 0 }).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(fake.requests.length).toBe(before);
    await budgeted.shutdown();
  });
});

describe('AI SDK usage shapes, never trusting total', () => {
  it('v6 detailed usage: noCache/cacheRead/cacheWrite', () => {
    const usage = { inputTokens: { total: 1300, noCache: 1000, cacheRead: 200, cacheWrite: 100 }, outputTokens: { total: 50, text: 40, reasoning: 10 } };
    expect(aiSdkUsageBuckets('openai', usage, undefined)).toMatchObject({ inputTokens: 1000, cachedReadTokens: 200, cachedWriteTokens: 100, outputTokens: 50, reasoningTokens: 10 });
  });

  it('a v2 Anthropic model under ai 6 (exclusive total, no noCache) does not subtract the cache twice', () => {
    const usage = { inputTokens: { total: 100, noCache: undefined, cacheRead: 5000, cacheWrite: undefined }, outputTokens: { total: 40, text: undefined, reasoning: undefined } };
    expect(aiSdkUsageBuckets('anthropic', usage, undefined)).toMatchObject({ inputTokens: null, cachedReadTokens: 5000, outputTokens: 40 });
    expect(aiSdkUsageBuckets('anthropic', usage, { anthropic: { usage: { input_tokens: 100, cache_read_input_tokens: 5000, output_tokens: 40 } } })).toMatchObject({
      inputTokens: 100,
      cachedReadTokens: 5000,
    });
  });

  it('ai 5 flat usage: Anthropic input excludes the cache, OpenAI includes it, Gemini output excludes thoughts', () => {
    expect(aiSdkUsageBuckets('anthropic', { inputTokens: 100, outputTokens: 40, cachedInputTokens: 5000 }, { anthropic: { cacheCreationInputTokens: 300 } })).toMatchObject({
      inputTokens: 100,
      cachedReadTokens: 5000,
      cachedWriteTokens: 300,
    });
    expect(aiSdkUsageBuckets('openai', { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200, reasoningTokens: 120 }, undefined)).toMatchObject({
      inputTokens: 1000,
      cachedReadTokens: 200,
      outputTokens: 300,
    });
    expect(aiSdkUsageBuckets('google', { inputTokens: 500, outputTokens: 80, reasoningTokens: 20, cachedInputTokens: 100 }, undefined)).toMatchObject({
      inputTokens: 400,
      cachedReadTokens: 100,
      outputTokens: 100,
      reasoningTokens: 20,
    });
    expect(aiSdkUsageBuckets('google', {}, { google: { usageMetadata: { promptTokenCount: 500, cachedContentTokenCount: 100, candidatesTokenCount: 80, thoughtsTokenCount: 20 } } })).toMatchObject({
      inputTokens: 400,
      outputTokens: 100,
      cachedWriteTokens: null,
    });
  });
});
