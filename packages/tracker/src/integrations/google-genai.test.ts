import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../create-tracker';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { collectGarbageUntil } from '../test-support/collect-garbage';
import { startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackGoogleGenAI } from './google-genai';

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let tracker: Tracker;
let calls: TrackedCall[];
let client: GoogleGenAI;

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
  client = trackGoogleGenAI(new GoogleGenAI({ apiKey: 'test-key-not-a-secret', httpOptions: { baseUrl: fake.url } }), tracker);
});

describe('trackGoogleGenAI', () => {
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
      responseId: 'g-resp-1',
      usageOrigin: 'response',
      // 1000 × 1.25 + 500 × 0.3125 + 300 × 10 = 4406.25 µ$
      costUsd: '0.00440625',
    });
  });

  it('records a stream with the last usageMetadata', async () => {
    const stream = await client.models.generateContentStream({ model: 'gemini-test', contents: 'hi' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    expect(text).toBe('Bonjour ✓');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ streaming: true, usageOrigin: 'stream', inputTokens: 40, outputTokens: 20, reasoningTokens: 8, responseId: 'g-stream-1' });
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
    const budgetedClient = trackGoogleGenAI(new GoogleGenAI({ apiKey: 'test-key-not-a-secret', httpOptions: { baseUrl: fake.url } }), budgeted);
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
    const budgetedClient = trackGoogleGenAI(new GoogleGenAI({ apiKey: 'test-key-not-a-secret', httpOptions: { baseUrl: fake.url } }), budgeted);
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
    const budgetedClient = trackGoogleGenAI(new GoogleGenAI({ apiKey: 'test-key-not-a-secret', httpOptions: { baseUrl: fake.url } }), budgeted);
    // 2000 bytes of contents: at one token a byte, more than the 1000 uncached the provider counts.
    const contents = [{ role: 'user', parts: [{ text: 'Translate: '.padEnd(2000, 'x') }] }];
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        budgetedClient.models.generateContent({ model: 'gemini-test', contents, config: { maxOutputTokens: 300 } }).then(
          () => 'sent',
          (error: unknown) => {
            if (BudgetExceededError.isInstance(error)) return 'refused';
            throw error;
          },
        ),
      ),
    );
    // The fake answers every call with one response id, so the tracker counts one: the spend is the calls sent.
    const sent = results.filter((result) => result === 'sent').length;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(11);
    await budgeted.shutdown();
  });
});
