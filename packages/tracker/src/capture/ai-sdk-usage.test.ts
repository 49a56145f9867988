import { createPriceRegistry } from '@utt/pricing';
import { describe, expect, it } from 'vitest';
import { createTracker } from '../create-tracker';
import { uttMiddleware } from '../integrations/ai-sdk';
import type { TrackedCall } from '../tracked-call';
import { aiSdkUsageBuckets, usageRuleOf, vendorOf } from './ai-sdk-usage';

// Hand-written numbers per provider package (in-process.md §1.4), in the shapes ai 5 (v2) and ai 6 (v3) hand over.

/** Anthropic's own usage: 100 uncached, 5000 cache reads, 500 cache writes of which 300 for 1 hour, 40 output (10 thinking). */
const anthropicRaw = {
  input_tokens: 100,
  cache_read_input_tokens: 5000,
  cache_creation_input_tokens: 500,
  cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
  output_tokens: 40,
  output_tokens_details: { thinking_tokens: 10 },
};
const anthropicV6 = { inputTokens: { total: 5600, noCache: 100, cacheRead: 5000, cacheWrite: 500 }, outputTokens: { total: 40, text: 30, reasoning: 10 }, raw: anthropicRaw };
const anthropicBuckets = { inputTokens: 100, cachedReadTokens: 5000, cachedWriteTokens: 500, cachedWrite1hTokens: 300, outputTokens: 40, reasoningTokens: 10 };

describe('which rules an AI SDK provider id follows', () => {
  it('reads Claude on Vertex and on Bedrock by Anthropic rules, billed by Google and AWS', () => {
    expect(
      ['anthropic.messages', 'vertex.anthropic.messages', 'bedrock.anthropic.messages', 'openai.chat', 'openai.responses', 'azure.chat', 'google.generative-ai', 'google.vertex.chat', 'amazon-bedrock', 'mistral.chat'].map(
        (id) => [id, usageRuleOf(id), vendorOf(id)],
      ),
    ).toEqual([
      ['anthropic.messages', 'anthropic', 'anthropic'],
      ['vertex.anthropic.messages', 'anthropic', 'google'],
      ['bedrock.anthropic.messages', 'anthropic', 'bedrock'],
      ['openai.chat', 'openai', 'openai'],
      ['openai.responses', 'openai', 'openai'],
      ['azure.chat', 'openai', 'azure'],
      ['google.generative-ai', 'google', 'google'],
      ['google.vertex.chat', 'google', 'google'],
      ['amazon-bedrock', 'bedrock', 'amazon-bedrock'],
      ['mistral.chat', undefined, 'mistral'],
    ]);
  });
});

describe('AI SDK usage → buckets, per provider package, never from total', () => {
  it('Anthropic direct: v6 raw usage (the 1-hour split); v5 input excludes the cache, writes from providerMetadata', () => {
    expect(aiSdkUsageBuckets('anthropic.messages', anthropicV6, undefined)).toEqual({ ...anthropicBuckets, webSearches: null });
    expect(aiSdkUsageBuckets('anthropic.messages', { inputTokens: 100, outputTokens: 40, totalTokens: 140, cachedInputTokens: 5000 }, { anthropic: { cacheCreationInputTokens: 500 } })).toMatchObject({
      inputTokens: 100,
      cachedReadTokens: 5000,
      cachedWriteTokens: 500,
      outputTokens: 40,
    });
  });

  it('Anthropic on Vertex and on Bedrock: the same rules (raw usage in v6, providerMetadata.anthropic in v5)', () => {
    for (const id of ['vertex.anthropic.messages', 'bedrock.anthropic.messages']) {
      expect(aiSdkUsageBuckets(id, anthropicV6, undefined), id).toMatchObject(anthropicBuckets);
      // v6 without raw usage: noCache/cacheRead/cacheWrite.
      expect(aiSdkUsageBuckets(id, { ...anthropicV6, raw: undefined }, undefined), id).toMatchObject({ inputTokens: 100, cachedReadTokens: 5000, cachedWriteTokens: 500, outputTokens: 40 });
      expect(aiSdkUsageBuckets(id, { inputTokens: 100, outputTokens: 40, cachedInputTokens: 5000 }, { anthropic: { usage: anthropicRaw, cacheCreationInputTokens: 500 } }), id).toMatchObject(anthropicBuckets);
    }
    // Under the package's own metadata key, too.
    expect(aiSdkUsageBuckets('vertex.anthropic.messages', { inputTokens: 100, outputTokens: 40, cachedInputTokens: 5000 }, { vertex: { cacheCreationInputTokens: 500 } })).toMatchObject({
      inputTokens: 100,
      cachedWriteTokens: 500,
    });
  });

  it('OpenAI: v6 raw usage; v6 noCache; v5 input includes cache reads (and writes when reported)', () => {
    const raw = { prompt_tokens: 1200, prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 100 }, completion_tokens: 300, completion_tokens_details: { reasoning_tokens: 120 } };
    const expected = { inputTokens: 900, cachedReadTokens: 200, cachedWriteTokens: 100, outputTokens: 300, reasoningTokens: 120 };
    expect(aiSdkUsageBuckets('openai.chat', { inputTokens: { total: 1200, noCache: 900, cacheRead: 200, cacheWrite: 100 }, outputTokens: { total: 300, text: 180, reasoning: 120 }, raw }, undefined)).toMatchObject(expected);
    expect(aiSdkUsageBuckets('azure.chat', { inputTokens: { total: 1200, noCache: 900, cacheRead: 200, cacheWrite: 100 }, outputTokens: { total: 300, text: 180, reasoning: 120 } }, undefined)).toMatchObject(expected);
    expect(aiSdkUsageBuckets('openai.chat', { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200, reasoningTokens: 120 }, undefined)).toMatchObject({ ...expected, inputTokens: 1000, cachedWriteTokens: null });
    expect(aiSdkUsageBuckets('openai.chat', { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200, reasoningTokens: 120 }, { openai: { usage: { cacheWriteTokens: 100 } } })).toMatchObject(expected);
  });

  it('Google: v6 raw usageMetadata (thoughts outside candidates); v5 input includes the cache, output excludes thoughts', () => {
    const raw = { promptTokenCount: 500, cachedContentTokenCount: 100, candidatesTokenCount: 80, thoughtsTokenCount: 20 };
    const expected = { inputTokens: 400, cachedReadTokens: 100, cachedWriteTokens: null, outputTokens: 100, reasoningTokens: 20 };
    for (const id of ['google.generative-ai', 'google.vertex.chat']) {
      expect(aiSdkUsageBuckets(id, { inputTokens: { total: 500, noCache: 400, cacheRead: 100, cacheWrite: undefined }, outputTokens: { total: 100, text: 80, reasoning: 20 }, raw }, undefined), id).toMatchObject(expected);
      expect(aiSdkUsageBuckets(id, { inputTokens: 500, outputTokens: 80, reasoningTokens: 20, cachedInputTokens: 100 }, undefined), id).toMatchObject(expected);
    }
  });

  it("Bedrock's own (Converse): input excludes cache reads and writes, in v6 raw usage and in v5 (not 100 − 5000 = 0)", () => {
    const raw = { inputTokens: 100, outputTokens: 40, totalTokens: 5640, cacheReadInputTokens: 5000, cacheWriteInputTokens: 500 };
    const expected = { inputTokens: 100, cachedReadTokens: 5000, cachedWriteTokens: 500, outputTokens: 40 };
    expect(aiSdkUsageBuckets('amazon-bedrock', { inputTokens: { total: 5600, noCache: 100, cacheRead: 5000, cacheWrite: 500 }, outputTokens: { total: 40, text: 40, reasoning: undefined }, raw }, undefined)).toMatchObject(expected);
    expect(aiSdkUsageBuckets('amazon-bedrock', { inputTokens: 100, outputTokens: 40, totalTokens: 140, cachedInputTokens: 5000 }, { bedrock: { usage: { cacheWriteInputTokens: 500 } } })).toMatchObject(expected);
  });

  it('a v2 model under ai 6 (no noCache): its numbers mean what its v2 package says', () => {
    const wrapped = (total: number, cacheRead: number) => ({ inputTokens: { total, noCache: undefined, cacheRead, cacheWrite: undefined }, outputTokens: { total: 40, text: undefined, reasoning: undefined } });
    expect(aiSdkUsageBuckets('anthropic.messages', wrapped(100, 5000), undefined)).toMatchObject({ inputTokens: 100, cachedReadTokens: 5000, outputTokens: 40 });
    expect(aiSdkUsageBuckets('openai.chat', wrapped(1200, 200), undefined)).toMatchObject({ inputTokens: 1000, cachedReadTokens: 200 });
  });

  it('a package without a known rule: NULL input, and why, when cache reads make it ambiguous; never a guess', () => {
    expect(aiSdkUsageBuckets('acme.chat', { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 200 }, undefined)).toMatchObject({
      inputTokens: null,
      cachedReadTokens: 200,
      outputTokens: 30,
      unpricedReason: 'usage_ambiguous:acme.chat',
    });
    expect(aiSdkUsageBuckets('acme.chat', { inputTokens: { total: 1200, noCache: undefined, cacheRead: 200, cacheWrite: undefined }, outputTokens: { total: 30 } }, undefined)).toMatchObject({
      inputTokens: null,
      unpricedReason: 'usage_ambiguous:acme.chat',
    });
    // noCache means the same in every package; without cache reads, both meanings of inputTokens agree.
    expect(aiSdkUsageBuckets('acme.chat', { inputTokens: { total: 1200, noCache: 1000, cacheRead: 200, cacheWrite: undefined }, outputTokens: { total: 30 } }, undefined)).toMatchObject({ inputTokens: 1000, cachedReadTokens: 200 });
    expect(aiSdkUsageBuckets('acme.chat', { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 0 }, undefined)).toMatchObject({ inputTokens: 1200, cachedReadTokens: 0 });
    expect(aiSdkUsageBuckets('acme.chat', { inputTokens: 1200, outputTokens: 30 }, undefined)).not.toHaveProperty('unpricedReason');
  });
});

describe('uttMiddleware with Claude on Vertex and a package without a rule', () => {
  const prices = createPriceRegistry({ overrides: { 'google/claude-vertex-test': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 }, 'acme/acme-test': { input: 1, output: 1, cacheRead: 0.1 } } });
  const generate = async (provider: string, modelId: string, usage: unknown): Promise<TrackedCall> => {
    const tracker = await createTracker({ application: 'test-app', prices, flushOnExit: false });
    const calls: TrackedCall[] = [];
    tracker.subscribe((call) => calls.push(call));
    const middleware = uttMiddleware(tracker);
    await middleware.wrapGenerate({
      doGenerate: async () => ({ usage, response: { id: 'r', modelId } }),
      doStream: async () => ({ stream: new ReadableStream() }),
      params: {},
      model: { provider, modelId },
    });
    await tracker.shutdown();
    return calls[0] as TrackedCall;
  };

  it('records Claude on Vertex under google with every bucket, priced', async () => {
    const call = await generate('vertex.anthropic.messages', 'claude-vertex-test', anthropicV6);
    // 100 × 3 + 5000 × 0.3 + 200 × 3.75 + 300 × 6 + 40 × 15 = 4 950 µ$
    expect(call).toMatchObject({ provider: 'google', ...anthropicBuckets, usageOrigin: 'response', costUsd: '0.00495', unpricedReason: null });
  });

  it('leaves a call of a package without a rule unpriced with the reason, when its input cannot be rebuilt', async () => {
    const call = await generate('acme.chat', 'acme-test', { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 200 });
    expect(call).toMatchObject({ provider: 'acme', inputTokens: null, cachedReadTokens: 200, outputTokens: 30, costUsd: null, unpricedReason: 'usage_ambiguous:acme.chat' });
  });
});
