import { count, isObject, NO_USAGE, type UsageBuckets } from './usage-buckets';

/**
 * Gemini `usageMetadata` → non-overlapping buckets: promptTokenCount includes
 * the cached content (so uncached input is what is left), and the tool-use
 * prompt (tool results given back to the model) comes on top of it, as input:
 * totalTokenCount is prompt + candidates + tool-use prompt + thoughts, and the
 * Gemini CLI adapter counts it the same way. candidatesTokenCount excludes
 * thoughts (so output = candidates + thoughts, thoughts being the reasoning
 * part). Gemini reports no cache writes: NULL.
 */
export function googleUsageBuckets(usage: unknown): UsageBuckets {
  if (!isObject(usage)) return { ...NO_USAGE };
  const prompt = count(usage.promptTokenCount);
  const cached = count(usage.cachedContentTokenCount);
  const candidates = count(usage.candidatesTokenCount);
  const thoughts = count(usage.thoughtsTokenCount);
  const toolUsePrompt = count(usage.toolUsePromptTokenCount);
  return {
    inputTokens: prompt === null && toolUsePrompt === null ? null : Math.max(0, (prompt ?? 0) - (cached ?? 0)) + (toolUsePrompt ?? 0),
    outputTokens: candidates === null && thoughts === null ? null : (candidates ?? 0) + (thoughts ?? 0),
    cachedReadTokens: cached ?? (prompt === null ? null : 0),
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: thoughts,
    webSearches: null,
  };
}
