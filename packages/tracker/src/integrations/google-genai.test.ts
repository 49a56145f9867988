import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../create-tracker';
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
});
