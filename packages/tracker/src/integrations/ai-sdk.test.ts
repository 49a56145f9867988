import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import * as ai6 from 'ai';
import * as ai5 from 'ai-v5';
import * as ai50 from 'ai-v5-0';
import * as ai60 from 'ai-v6-0';
import { createAnthropic as createAnthropicV2 } from 'ai-sdk-anthropic-v2';
import { createAnthropic as createAnthropicV20 } from 'ai-sdk-anthropic-v2-0';
import { createAnthropic as createAnthropicV30 } from 'ai-sdk-anthropic-v3-0';
import { createOpenAI as createOpenAIV2 } from 'ai-sdk-openai-v2';
import { createOpenAI as createOpenAIV20 } from 'ai-sdk-openai-v2-0';
import { createOpenAI as createOpenAIV30 } from 'ai-sdk-openai-v3-0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkUsageBuckets } from '../capture/ai-sdk-usage';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { createTracker, type Tracker } from '../create-tracker';
import { collectGarbageUntil } from '../test-support/collect-garbage';
import { startFakeProvider } from '../test-support/fake-provider';
import { sentOrRefused } from '../test-support/sent-or-refused';
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

// The AI SDK's functions as the tests call them; each major's own types differ, its behaviour is what is tested.
type Loose = (...args: never[]) => unknown;
type Major = {
  readonly name: string;
  readonly ai: { generateText: Loose; streamText: Loose; wrapLanguageModel: Loose };
  readonly openai: (baseURL: string) => { chat(model: string): unknown };
  readonly anthropic: (baseURL: string) => (model: string) => unknown;
  readonly specificationVersion: 'v2' | 'v3';
  /** Hand-written per major: what the provider package reports decides what can be known. */
  readonly expected: { openaiGenerate: Partial<TrackedCall>; anthropicStream: Partial<TrackedCall> };
};

const MAJORS: Major[] = [
  {
    name: 'ai 6 (@ai-sdk/openai 3, @ai-sdk/anthropic 3)',
    ai: ai6 as unknown as Major['ai'],
    openai: (baseURL) => createOpenAI({ apiKey: 'sk-test', baseURL }),
    anthropic: (baseURL) => createAnthropic({ apiKey: 'sk-ant-test', baseURL }),
    specificationVersion: 'v3',
    expected: {
      // usage.raw is OpenAI's own usage: 1200 prompt − 200 cached − 100 cache writes = 900 uncached.
      // 900 × $2 + 200 × $0.5 + 100 × $2.5 + 300 × $8 per M = $0.00455.
      openaiGenerate: { inputTokens: 900, cachedReadTokens: 200, cachedWriteTokens: 100, outputTokens: 300, reasoningTokens: 120, costUsd: '0.00455' },
      anthropicStream: { inputTokens: 25, cachedWriteTokens: 500, cachedWrite1hTokens: 500, outputTokens: 42, usageOrigin: 'stream' },
    },
  },
  {
    name: 'ai 6.0.0 (@ai-sdk/openai 3.0.0, @ai-sdk/anthropic 3.0.0)',
    ai: ai60 as unknown as Major['ai'],
    openai: (baseURL) => createOpenAIV30({ apiKey: 'sk-test', baseURL }),
    anthropic: (baseURL) => createAnthropicV30({ apiKey: 'sk-ant-test', baseURL }),
    specificationVersion: 'v3',
    expected: {
      // @ai-sdk/openai 3.0.0 has no usage.raw and drops OpenAI's cache_write_tokens: the 100 writes stay in the
      // 1000 uncached (1200 − 200 cached), priced as input: 1000 × $2 + 200 × $0.5 + 300 × $8 per M = $0.0045.
      openaiGenerate: { inputTokens: 1000, cachedReadTokens: 200, cachedWriteTokens: null, outputTokens: 300, reasoningTokens: 120, costUsd: '0.0045' },
      anthropicStream: { inputTokens: 25, cachedWriteTokens: 500, cachedWrite1hTokens: 500, outputTokens: 42, usageOrigin: 'stream' },
    },
  },
  {
    name: 'ai 5.0.0 (@ai-sdk/openai 2.0.0, @ai-sdk/anthropic 2.0.0)',
    ai: ai50 as unknown as Major['ai'],
    openai: (baseURL) => createOpenAIV20({ apiKey: 'sk-test', baseURL }),
    anthropic: (baseURL) => createAnthropicV20({ apiKey: 'sk-ant-test', baseURL }),
    specificationVersion: 'v2',
    expected: {
      // @ai-sdk/openai 2.0.0 reports no providerMetadata.openai.usage.cacheWriteTokens: as under 3.0.0, $0.0045.
      openaiGenerate: { inputTokens: 1000, cachedReadTokens: 200, cachedWriteTokens: null, outputTokens: 300, reasoningTokens: 120, costUsd: '0.0045' },
      anthropicStream: { inputTokens: 25, cachedWriteTokens: 500, cachedWrite1hTokens: 500, outputTokens: 42, usageOrigin: 'stream' },
    },
  },
  {
    name: 'ai 5 (@ai-sdk/openai 2, @ai-sdk/anthropic 2)',
    ai: ai5 as unknown as Major['ai'],
    openai: (baseURL) => createOpenAIV2({ apiKey: 'sk-test', baseURL }),
    anthropic: (baseURL) => createAnthropicV2({ apiKey: 'sk-ant-test', baseURL }),
    specificationVersion: 'v2',
    expected: {
      // Flat v2 usage: inputTokens 1200 includes the 200 cached and the 100 cache writes, which @ai-sdk/openai 2
      // reports in providerMetadata.openai.usage.cacheWriteTokens: the same buckets and price as under ai 6.
      openaiGenerate: { inputTokens: 900, cachedReadTokens: 200, cachedWriteTokens: 100, outputTokens: 300, reasoningTokens: 120, costUsd: '0.00455' },
      anthropicStream: { inputTokens: 25, cachedWriteTokens: 500, cachedWrite1hTokens: 500, outputTokens: 42, usageOrigin: 'stream' },
    },
  },
];

describe.each(MAJORS)('uttMiddleware under $name', (major) => {
  const { generateText, streamText, wrapLanguageModel } = major.ai as unknown as typeof ai6;
  const middleware = (target: Tracker) => uttMiddleware(target, { specificationVersion: major.specificationVersion }) as never;
  const openai = (model: string) => major.openai(`${fake.url}/v1`).chat(model) as never;
  const anthropic = (model: string) => major.anthropic(`${fake.url}/v1`)(model) as never;

  it('records generateText through the OpenAI provider with tags from providerOptions.utt', async () => {
    const model = wrapLanguageModel({ model: openai('gpt-test'), middleware: middleware(tracker) });
    const result = await generateText({ model, prompt: '2+2?', providerOptions: { utt: { feature: 'math' } } });
    expect(result.text).toBe('Four.');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      provider: 'openai',
      model: 'gpt-test',
      responseId: 'chatcmpl-AbC123',
      usageOrigin: 'response',
      streaming: false,
      tags: { feature: 'math' },
      ...major.expected.openaiGenerate,
    });
    expect(calls[0]?.rateLimitHeaders).toMatchObject({ 'x-ratelimit-remaining-requests': '499' });
  });

  it('records streamText when the stream finishes', async () => {
    const model = wrapLanguageModel({ model: openai('gpt-test'), middleware: middleware(tracker) });
    const result = streamText({ model, prompt: 'hi' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello, wörld ✓');
    expect(calls).toHaveLength(1);
    // 50 × $2 + 20 × $8 per M = $0.00026.
    expect(calls[0]).toMatchObject({ streaming: true, usageOrigin: 'stream', inputTokens: 50, cachedReadTokens: 0, outputTokens: 20, responseId: 'chatcmpl-Str456', costUsd: '0.00026' });
  });

  it('rebuilds Anthropic buckets from the raw usage, 1-hour cache writes included', async () => {
    const model = wrapLanguageModel({ model: anthropic('claude-test'), middleware: middleware(tracker) });
    await generateText({ model, prompt: 'hi' });
    // 100 × $3 + 5000 × $0.3 + 1000 × $3.75 + 2000 × $6 + 400 × $15 per M + 2 searches × $0.01 = $0.04355.
    expect(calls[0]).toMatchObject({ provider: 'anthropic', inputTokens: 100, cachedReadTokens: 5000, cachedWriteTokens: 3000, cachedWrite1hTokens: 2000, outputTokens: 400, webSearches: 2, usageOrigin: 'response', costUsd: '0.04355' });
    const streamed = streamText({ model, prompt: 'hi' });
    for await (const _ of streamed.textStream) {
      // drain
    }
    expect(calls[1]).toMatchObject(major.expected.anthropicStream);
  });

  it('holds a concurrent burst under a block budget to at most one call over, the prompt estimated from its text', async () => {
    // Each call costs $0.00455 (ai 6) or $0.0045 (ai 5): 1200 input tokens, 300 output. Room for 10 of them.
    const limitUsd = 10 * 0.00455;
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd, behavior: 'block' }] });
    const model = wrapLanguageModel({ model: openai('gpt-test'), middleware: middleware(budgeted) });
    // 2400 bytes of prompt: at one token a byte, more than the 1200 the provider counts.
    const prompt = 'Summarise: '.padEnd(2400, 'x');
    const results = await Promise.all(
      Array.from({ length: 30 }, () => sentOrRefused(generateText({ model, prompt, maxOutputTokens: 300, maxRetries: 0 }))),
    );
    // The fake answers every call with one response id, so the tracker counts one: the spend is the calls sent.
    const sent = results.filter((result) => result === 'sent').length;
    expect(sent).toBeGreaterThan(0);
    expect(sent * 0.00455).toBeLessThanOrEqual(limitUsd + 0.00455);
    await budgeted.shutdown();
  });

  it('refuses before the call is sent when a block budget is spent', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.001, behavior: 'block' }] });
    const model = wrapLanguageModel({ model: openai('gpt-test'), middleware: middleware(budgeted) });
    const before = fake.requests.length;
    const error = await generateText({ model, prompt: 'hi', maxOutputTokens: 1000, maxRetries: 0 }).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(fake.requests.length).toBe(before);
    await budgeted.shutdown();
  });
});

describe('uttMiddleware with a stream the caller never reads', () => {
  const model = { provider: 'openai.chat', modelId: 'gpt-test' };
  const doGenerate = () => Promise.reject(new Error('not called'));
  const endless = () => ({ stream: new ReadableStream<{ type: string }>({ pull() {} }) });

  it('records a stream cancelled before its first read as usage "unknown" and gives its hold back', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const recorded: TrackedCall[] = [];
    budgeted.subscribe((call) => recorded.push(call));
    const result = await uttMiddleware(budgeted).wrapStream({ doGenerate, doStream: async () => endless(), params: { maxOutputTokens: 100 }, model });
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeGreaterThan(0);
    await result.stream.cancel();
    expect(recorded).toMatchObject([{ usageOrigin: 'unknown', streaming: true, model: 'gpt-test' }]);
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
    await budgeted.shutdown();
  });

  it('records a stream garbage collected unread as usage "unknown" and gives its hold back', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const recorded: TrackedCall[] = [];
    budgeted.subscribe((call) => recorded.push(call));
    await (async () => {
      await uttMiddleware(budgeted).wrapStream({ doGenerate, doStream: async () => endless(), params: { maxOutputTokens: 100 }, model });
    })();
    expect(await collectGarbageUntil(() => recorded.length > 0)).toBe(true);
    expect(recorded).toMatchObject([{ usageOrigin: 'unknown', streaming: true, model: 'gpt-test' }]);
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
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
    // Its total is v2's inputTokens, which @ai-sdk/anthropic 2 reports without the cache.
    expect(aiSdkUsageBuckets('anthropic', usage, undefined)).toMatchObject({ inputTokens: 100, cachedReadTokens: 5000, outputTokens: 40 });
    expect(aiSdkUsageBuckets('anthropic', usage, { anthropic: { usage: { input_tokens: 100, cache_read_input_tokens: 5000, output_tokens: 40 } } })).toMatchObject({
      inputTokens: 100,
      cachedReadTokens: 5000,
    });
  });

  it("Anthropic's raw usage from both places: @ai-sdk/anthropic 3.0.0's stream keeps the 1h split only in providerMetadata", () => {
    const messageStart = { input_tokens: 25, output_tokens: 1, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 500 } };
    const usage = {
      inputTokens: { total: 1025, noCache: 25, cacheRead: 0, cacheWrite: 1000 },
      outputTokens: { total: 42, text: undefined, reasoning: undefined },
      raw: { input_tokens: 25, output_tokens: 42, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0 },
    };
    expect(aiSdkUsageBuckets('anthropic.messages', usage, { anthropic: { usage: { ...messageStart, output_tokens: 42 } } })).toMatchObject({
      inputTokens: 25,
      cachedWriteTokens: 1000,
      cachedWrite1hTokens: 500,
      outputTokens: 42,
    });
  });

  it("@ai-sdk/anthropic 2.0.0's stream: message_start's placeholder output count in providerMetadata yields to message_delta's", () => {
    const messageStart = { input_tokens: 25, output_tokens: 1, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 500 } };
    expect(aiSdkUsageBuckets('anthropic.messages', { inputTokens: 25, outputTokens: 42, cachedInputTokens: 0 }, { anthropic: { usage: messageStart, cacheCreationInputTokens: 1000 } })).toMatchObject({
      inputTokens: 25,
      cachedWrite1hTokens: 500,
      outputTokens: 42,
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
