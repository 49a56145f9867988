import { describe, expect, it } from 'vitest';
import { createTracker } from './create-tracker';
import { FIXTURES } from './test-support/fake-provider';
import { testPrices } from './test-support/test-prices';
import { trackStream } from './track-stream';

const base = { application: 'test-app', prices: testPrices(), flushOnExit: false } as const;
const sseData = (buffer: Buffer) =>
  buffer
    .toString('utf8')
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));

describe('trackStream (clients no integration covers)', () => {
  it('reads OpenAI chunks passed as parsed objects', async () => {
    const tracker = await createTracker(base);
    const collector = trackStream(tracker, { provider: 'openai', model: 'gpt-test', tags: { feature: 'x' } });
    for (const data of sseData(FIXTURES.chatStreamUsage)) if (data !== '[DONE]') collector.event(JSON.parse(data));
    expect(collector.end()).toMatchObject({ usageOrigin: 'stream', inputTokens: 50, outputTokens: 20, streaming: true, costUsd: '0.00026', tags: { feature: 'x' } });
  });

  it('reads Anthropic SSE data and records a cut stream as unknown', async () => {
    const tracker = await createTracker(base);
    const full = trackStream(tracker, { provider: 'anthropic', model: 'claude-test' });
    for (const data of sseData(FIXTURES.anthropicStream)) full.event(data);
    expect(full.end()).toMatchObject({ usageOrigin: 'stream', outputTokens: 42, cachedWrite1hTokens: 500 });
    const cut = trackStream(tracker, { provider: 'anthropic', model: 'claude-test' });
    // Another response (the same id would be the same call, counted once).
    cut.event((sseData(FIXTURES.anthropicStream)[0] as string).replace('msg_01Str', 'msg_02Cut'));
    expect(cut.abort()).toMatchObject({ usageOrigin: 'unknown', inputTokens: 25, outputTokens: null });
  });

  it('reads Gemini chunks (the last usageMetadata wins) and takes explicit totals as manual', async () => {
    const tracker = await createTracker(base);
    const gemini = trackStream(tracker, { provider: 'google', model: 'gemini-x' });
    gemini.event({ responseId: 'g1', modelVersion: 'gemini-x-001', usageMetadata: { promptTokenCount: 10 } });
    gemini.event({ usageMetadata: { promptTokenCount: 500, cachedContentTokenCount: 100, candidatesTokenCount: 80, thoughtsTokenCount: 20 } });
    expect(gemini.end()).toMatchObject({ model: 'gemini-x-001', responseId: 'g1', inputTokens: 400, cachedReadTokens: 100, outputTokens: 100, reasoningTokens: 20 });
    const manual = trackStream(tracker, { provider: 'openai', model: 'gpt-test' });
    manual.usage({ inputTokens: 7, outputTokens: 3 });
    expect(manual.end()).toMatchObject({ usageOrigin: 'manual', inputTokens: 7, outputTokens: 3 });
  });
});
