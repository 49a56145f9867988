import { describe, expect, it } from 'vitest';
import { googleUsageBuckets } from './google-usage';

describe('googleUsageBuckets', () => {
  it('counts tool-use prompt tokens as input, on top of the uncached prompt (as the Gemini CLI adapter does)', () => {
    // totalTokenCount = prompt + candidates + toolUsePrompt + thoughts: 500 + 80 + 300 + 20.
    const usage = { promptTokenCount: 500, cachedContentTokenCount: 100, candidatesTokenCount: 80, toolUsePromptTokenCount: 300, thoughtsTokenCount: 20, totalTokenCount: 900 };
    const buckets = googleUsageBuckets(usage);
    expect(buckets).toMatchObject({ inputTokens: 700, cachedReadTokens: 100, outputTokens: 100, reasoningTokens: 20 });
    // Every token of the total is in exactly one bucket.
    expect((buckets.inputTokens ?? 0) + (buckets.cachedReadTokens ?? 0) + (buckets.outputTokens ?? 0)).toBe(usage.totalTokenCount);
  });

  it('keeps NULL for what Gemini did not report, and 0 for what it reported as 0', () => {
    expect(googleUsageBuckets({ candidatesTokenCount: 5 })).toMatchObject({ inputTokens: null, cachedReadTokens: null, outputTokens: 5 });
    expect(googleUsageBuckets({ toolUsePromptTokenCount: 40, candidatesTokenCount: 5 })).toMatchObject({ inputTokens: 40, cachedReadTokens: null });
    expect(googleUsageBuckets({ promptTokenCount: 0, candidatesTokenCount: 0 })).toMatchObject({ inputTokens: 0, cachedReadTokens: 0, outputTokens: 0 });
  });
});
