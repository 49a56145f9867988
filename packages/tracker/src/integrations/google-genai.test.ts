import { readFileSync } from 'node:fs';
import { GoogleGenAI, type HttpOptions } from '@google/genai';
import { GoogleGenAI as GoogleGenAIV1 } from 'google-genai-v1';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../create-tracker';
import { collectGarbageUntil } from '../test-support/collect-garbage';
import { startFakeProvider } from '../test-support/fake-provider';
import { sentOrRefused } from '../test-support/sent-or-refused';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackGoogleGenAI } from './google-genai';

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

/** The lines of the peer range: each one's client is driven through the current major's types (the calls the tests make exist in both). */
type SdkLine = {
  readonly name: string;
  /** In the fake's models, so that its once-only 429 is once per line. */
  readonly modelTag: string;
  readonly client: (httpOptions: HttpOptions) => GoogleGenAI;
  /** Whether `httpOptions.retryOptions` exists (2.x: retries 408/429/5xx when set; none by default). */
  readonly retryOptions: boolean;
  /** 1.0 drops `responseId` from what it returns (a field it does not know yet) and returns no `sdkHttpResponse`, so no rate-limit headers. */
  readonly responseMetadata: boolean;
};

const SDK_LINES: SdkLine[] = [
  { name: '@google/genai 2', modelTag: 'v2', client: (httpOptions) => new GoogleGenAI({ apiKey: 'test-key-not-a-secret', httpOptions }), retryOptions: true, responseMetadata: true },
  {
    name: '@google/genai 1.0',
    modelTag: 'v1',
    client: (httpOptions) => new GoogleGenAIV1({ apiKey: 'test-key-not-a-secret', httpOptions }) as unknown as GoogleGenAI,
    retryOptions: false,
    responseMetadata: false,
  },
];

/** The `data:` payloads of a recorded-shape SSE fixture, as the API sent them. */
const fixtureEvents = (name: string) =>
  readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8')
    .split(/\r?\n\r?\n/)
    .filter((event) => event.startsWith('data: '))
    .map((event) => JSON.parse(event.slice('data: '.length)) as Record<string, unknown>);

/** A chunk without the SDK's view of the HTTP response (its date header differs from one request to the next). */
const payload = (chunk: object) => {
  const { sdkHttpResponse: _, ...rest } = JSON.parse(JSON.stringify(chunk)) as Record<string, unknown>;
  return rest;
};

describe.each(SDK_LINES)('trackGoogleGenAI with $name', (line) => {
  let client: GoogleGenAI;
  beforeEach(() => {
    client = trackGoogleGenAI(line.client({ baseUrl: fake.url }), tracker);
  });
  /** The response id the tracker can see through this line's SDK. */
  const responseId = (id: string) => (line.responseMetadata ? id : null);

  it('records generateContent: cached content out of the prompt, thoughts into output', async () => {
    const response = await client.models.generateContent({ model: 'gemini-test', contents: 'hi' });
    expect(response.text).toBe('Bonjour.');
    expect(calls[0]).toMatchObject({
      provider: 'google',
      model: 'gemini-test',
      inputTokens: 1000,
      cachedReadTokens: 500,
      cachedWriteTokens: null,
      outputTokens: 300,
      reasoningTokens: 100,
      responseId: responseId('g-resp-1'),
      usageOrigin: 'response',
      // 1000 × 1.25 + 500 × 0.3125 + 300 × 10 = 4406.25 µ$
      costUsd: '0.00440625',
    });
  });

  it('records automatic function calling with the usage of every request the SDK made, not the last one alone', async () => {
    const weather = {
      tool: async () => ({ functionDeclarations: [{ name: 'get_weather', description: 'The weather in a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }),
      callTool: async () => [{ functionResponse: { name: 'get_weather', response: { celsius: 21, sky: 'sunny' } } }],
    };
    const before = fake.requests.length;
    const response = await client.models.generateContent({ model: 'gemini-test-afc', contents: 'Weather in Paris?', config: { tools: [weather as never] } });
    expect(response.text).toBe('Sunny, 21 °C.');
    // Two billed requests: the function call (100 in, 10 out), then the answer (130 in, 20 + 5 thoughts out).
    expect(fake.requests.length - before).toBe(2);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ inputTokens: 230, cachedReadTokens: 0, outputTokens: 35, reasoningTokens: 5, usageOrigin: 'response', responseId: responseId('g-afc-2') });
    // Concurrent calls on one client keep their own requests.
    await Promise.all([
      client.models.generateContent({ model: 'gemini-test-afc', contents: 'Weather in Paris?', config: { tools: [weather as never] } }),
      client.models.generateContent({ model: 'gemini-test', contents: 'hi' }),
      client.models.generateContent({ model: 'gemini-test-afc', contents: 'Weather in Paris?', config: { tools: [weather as never] } }),
    ]);
    await tracker.flush();
    expect(calls.slice(1).map((call) => [call.model, call.inputTokens, call.outputTokens]).sort()).toEqual([
      ['gemini-test', 1000, 300],
      ['gemini-test-afc', 230, 35],
      ['gemini-test-afc', 230, 35],
    ]);
  });

  it('records a stream with the last usageMetadata', async () => {
    const stream = await client.models.generateContentStream({ model: 'gemini-test', contents: 'hi' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    expect(text).toBe('Bonjour ✓');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ streaming: true, usageOrigin: 'stream', inputTokens: 40, outputTokens: 20, reasoningTokens: 8, responseId: responseId('g-stream-1') });
  });

  it('records a stream left early as usage "unknown"', async () => {
    const stream = await client.models.generateContentStream({ model: 'gemini-test', contents: 'hi' });
    for await (const _ of stream) break;
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', inputTokens: 40, outputTokens: null });
  });

  it('records a stream never iterated, then closed, as usage "unknown" and gives its hold back', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const recorded: TrackedCall[] = [];
    budgeted.subscribe((call) => recorded.push(call));
    const budgetedClient = trackGoogleGenAI(line.client({ baseUrl: fake.url }), budgeted);
    const stream = await budgetedClient.models.generateContentStream({ model: 'gemini-test', contents: 'hi', config: { maxOutputTokens: 100 } });
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeGreaterThan(0);
    await stream.return(undefined);
    expect(recorded).toMatchObject([{ usageOrigin: 'unknown', streaming: true, model: 'gemini-test', outputTokens: null }]);
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
    await budgeted.shutdown();
  });

  it('records a stream garbage collected unread as usage "unknown" and gives its hold back', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const recorded: TrackedCall[] = [];
    budgeted.subscribe((call) => recorded.push(call));
    const budgetedClient = trackGoogleGenAI(line.client({ baseUrl: fake.url }), budgeted);
    await (async () => {
      await budgetedClient.models.generateContentStream({ model: 'gemini-test', contents: 'hi', config: { maxOutputTokens: 100 } });
    })();
    expect(await collectGarbageUntil(() => recorded.length > 0)).toBe(true);
    expect(recorded).toMatchObject([{ usageOrigin: 'unknown', streaming: true, model: 'gemini-test' }]);
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
    await budgeted.shutdown();
  });

  it('holds a concurrent burst under a block budget to at most one call over, the contents estimated from their text', async () => {
    // Each call costs $0.00440625 (1000 uncached + 500 cached input, 300 output). Room for 10 of them.
    const callUsd = 0.00440625;
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10 * callUsd, behavior: 'block' }] });
    const budgetedClient = trackGoogleGenAI(line.client({ baseUrl: fake.url }), budgeted);
    // 2000 bytes of contents: at one token a byte, more than the 1000 uncached the provider counts.
    const contents = [{ role: 'user', parts: [{ text: 'Translate: '.padEnd(2000, 'x') }] }];
    const results = await Promise.all(
      Array.from({ length: 30 }, () => sentOrRefused(budgetedClient.models.generateContent({ model: 'gemini-test', contents, config: { maxOutputTokens: 300 } }))),
    );
    // The fake answers every call with one response id, so the tracker counts one: the spend is the calls sent.
    const sent = results.filter((result) => result === 'sent').length;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(11);
    await budgeted.shutdown();
  });

  it('records a stream with cached content and thoughts, every bucket by hand, and hands every chunk over as the API sent it', async () => {
    const model = `gemini-test-${line.modelTag}-cached`;
    const untracked: object[] = [];
    for await (const chunk of await line.client({ baseUrl: fake.url }).models.generateContentStream({ model, contents: 'hi' })) untracked.push(payload(chunk));
    const received: object[] = [];
    let text = '';
    for await (const chunk of await client.models.generateContentStream({ model, contents: 'hi' })) {
      received.push(payload(chunk));
      text += chunk.text ?? '';
    }
    expect(text).toBe('Le cache répond — ✓');
    // The same chunks as without the tracker, and what the API sent in each, nothing added or lost.
    expect(received).toEqual(untracked);
    const sent = fixtureEvents('google-stream-cached.sse');
    expect(received).toHaveLength(sent.length);
    received.forEach((chunk, index) => {
      const event = sent[index] ?? {};
      expect(chunk).toMatchObject({ candidates: event.candidates, usageMetadata: event.usageMetadata, modelVersion: event.modelVersion });
      if (line.responseMetadata) expect(chunk).toMatchObject({ responseId: event.responseId });
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      provider: 'google',
      model: 'gemini-test',
      operation: 'generateContentStream',
      streaming: true,
      usageOrigin: 'stream',
      responseId: responseId('g-stream-cached-1'),
      // promptTokenCount 2100 includes the 1600 cached: 500 uncached.
      inputTokens: 500,
      cachedReadTokens: 1600,
      // Gemini reports no cache writes.
      cachedWriteTokens: null,
      cachedWrite1hTokens: null,
      // candidatesTokenCount 57 excludes the 384 thoughts: 441 output, of which 384 reasoning.
      outputTokens: 441,
      reasoningTokens: 384,
      webSearches: null,
      // 500 × 1.25 + 1600 × 0.3125 + 441 × 10 = 5535 µ$
      costUsd: '0.005535',
    });
    expect(calls[0]?.rateLimitHeaders).toEqual(line.responseMetadata ? { 'x-ratelimit-remaining-requests': '99' } : undefined);
  });

  it.runIf(line.retryOptions)('records one call, and none for the 429, when the SDK retries a 429 (httpOptions.retryOptions)', async () => {
    const retrying = trackGoogleGenAI(line.client({ baseUrl: fake.url, retryOptions: { attempts: 2, initialDelay: 0.01, jitter: 0 } }), tracker);
    const model = `gemini-test-${line.modelTag}-retried-429`;
    const response = await retrying.models.generateContent({ model, contents: 'hi' });
    expect(response.text).toBe('Bonjour.');
    const streamModel = `gemini-test-${line.modelTag}-retried-stream-429`;
    let text = '';
    for await (const chunk of await retrying.models.generateContentStream({ model: streamModel, contents: 'hi' })) text += chunk.text ?? '';
    expect(text).toBe('Bonjour ✓');
    expect(fake.requests.filter((request) => request.path.includes(`/${model}:`))).toHaveLength(2);
    expect(fake.requests.filter((request) => request.path.includes(`/${streamModel}:`))).toHaveLength(2);
    expect(calls).toHaveLength(2);
    // 1000 × 1.25 + 500 × 0.3125 + 300 × 10 = 4406.25 µ$
    expect(calls[0]).toMatchObject({ inputTokens: 1000, cachedReadTokens: 500, outputTokens: 300, reasoningTokens: 100, usageOrigin: 'response', costUsd: '0.00440625' });
    expect(calls[1]).toMatchObject({ inputTokens: 40, cachedReadTokens: 0, outputTokens: 20, reasoningTokens: 8, usageOrigin: 'stream', streaming: true });
  });

  it("surfaces a 429 the SDK does not retry as the SDK's error, records nothing and gives the budget hold back", async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'day', limitUsd: 10, behavior: 'block' }] });
    const recorded: TrackedCall[] = [];
    budgeted.subscribe((call) => recorded.push(call));
    // 1.x has no retry option; 2.x retries only when httpOptions.retryOptions is set.
    const budgetedClient = trackGoogleGenAI(line.client({ baseUrl: fake.url }), budgeted);
    const model = `gemini-test-${line.modelTag}-unretried-429`;
    const streamModel = `gemini-test-${line.modelTag}-unretried-stream-429`;
    const errors = [
      await budgetedClient.models.generateContent({ model, contents: 'hi', config: { maxOutputTokens: 100 } }).catch((error: unknown) => error),
      await budgetedClient.models.generateContentStream({ model: streamModel, contents: 'hi', config: { maxOutputTokens: 100 } }).catch((error: unknown) => error),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('429');
      expect((error as Error).message).toContain('RESOURCE_EXHAUSTED');
      if (line.retryOptions) expect(error).toMatchObject({ name: 'ApiError', status: 429 });
    }
    expect(fake.requests.filter((request) => request.path.includes(`/${model}:`) || request.path.includes(`/${streamModel}:`))).toHaveLength(2);
    expect(recorded).toEqual([]);
    expect(budgeted.budgetStatus()[0]?.reservedUsd).toBeCloseTo(0, 12);
    // The caller's own retry is a call of its own, recorded once.
    await budgetedClient.models.generateContent({ model, contents: 'hi', config: { maxOutputTokens: 100 } });
    expect(recorded).toMatchObject([{ usageOrigin: 'response', inputTokens: 1000, outputTokens: 300 }]);
    await budgeted.shutdown();
  });
});
