import { anthropicUsageBuckets } from './anthropic-usage';
import { googleUsageBuckets } from './google-usage';
import { openAIUsageBuckets } from './openai-usage';
import { count, isObject, type JsonObject, NO_USAGE, type UsageBuckets } from './usage-buckets';

/** The vendor behind an AI SDK provider id ('openai.chat', 'anthropic.messages', 'google.generative-ai'). */
export function vendorOf(providerId: string): string {
  const vendor = providerId.split('.')[0] ?? providerId;
  return vendor === 'google' || vendor === 'vertex' ? 'google' : vendor;
}

const objectAt = (value: unknown, ...path: string[]): JsonObject | undefined => {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : undefined;
};

/**
 * AI SDK usage (v5's flat LanguageModelV2Usage or v6's detailed
 * LanguageModelV3Usage) → non-overlapping buckets. `inputTokens` means
 * different things by version and provider package, so `total` is never
 * trusted: the buckets come from the provider's raw usage when it is there,
 * else from v6's noCache/cacheRead/cacheWrite, else from v5's fields with
 * each vendor's known meaning. What cannot be known stays NULL.
 */
export function aiSdkUsageBuckets(vendor: string, usage: unknown, providerMetadata: unknown): UsageBuckets {
  if (!isObject(usage)) return { ...NO_USAGE };
  const raw = isObject(usage.raw) ? usage.raw : undefined;
  const anthropicMeta = objectAt(providerMetadata, 'anthropic');
  const rawUsage = raw ?? (vendor === 'anthropic' ? objectAt(anthropicMeta, 'usage') : vendor === 'google' ? objectAt(providerMetadata, 'google', 'usageMetadata') : undefined);
  if (rawUsage) {
    if (vendor === 'anthropic') return anthropicUsageBuckets(rawUsage);
    if (vendor === 'google') return googleUsageBuckets(rawUsage);
    if (vendor === 'openai' || vendor === 'azure') return openAIUsageBuckets(rawUsage);
  }
  if (isObject(usage.inputTokens) || isObject(usage.outputTokens)) {
    // v6 (LanguageModelV3Usage).
    const input = isObject(usage.inputTokens) ? usage.inputTokens : {};
    const output = isObject(usage.outputTokens) ? usage.outputTokens : {};
    const noCache = count(input.noCache);
    const cacheRead = count(input.cacheRead);
    const cacheWrite = count(input.cacheWrite);
    const total = count(input.total);
    const uncached = noCache ?? (total !== null && cacheRead !== null && vendor !== 'anthropic' ? Math.max(0, total - cacheRead - (cacheWrite ?? 0)) : null);
    return {
      inputTokens: uncached,
      outputTokens: count(output.total),
      cachedReadTokens: cacheRead,
      cachedWriteTokens: cacheWrite,
      cachedWrite1hTokens: null,
      reasoningTokens: count(output.reasoning),
      webSearches: null,
    };
  }
  // v5 (LanguageModelV2Usage): flat numbers whose meaning depends on the vendor.
  const inputTokens = count(usage.inputTokens);
  const outputTokens = count(usage.outputTokens);
  const cached = count(usage.cachedInputTokens);
  const reasoning = count(usage.reasoningTokens);
  if (vendor === 'anthropic') {
    // @ai-sdk/anthropic@2: inputTokens excludes cache reads and writes; writes are only in providerMetadata.
    return {
      inputTokens,
      outputTokens,
      cachedReadTokens: cached,
      cachedWriteTokens: count(anthropicMeta?.cacheCreationInputTokens),
      cachedWrite1hTokens: null,
      reasoningTokens: reasoning,
      webSearches: null,
    };
  }
  return {
    inputTokens: inputTokens === null ? null : Math.max(0, inputTokens - (cached ?? 0)),
    // Gemini v5 counts thoughts outside outputTokens.
    outputTokens: vendor === 'google' && outputTokens !== null ? outputTokens + (reasoning ?? 0) : outputTokens,
    cachedReadTokens: cached,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: reasoning,
    webSearches: null,
  };
}

/** The service tier the provider metadata reports, if any. */
export function aiSdkServiceTier(vendor: string, providerMetadata: unknown, raw: unknown): string | null {
  const fromRaw = isObject(raw) && typeof raw.service_tier === 'string' ? raw.service_tier : null;
  const meta = objectAt(providerMetadata, vendor);
  const fromMeta = typeof meta?.serviceTier === 'string' ? meta.serviceTier : null;
  const fromAnthropic = typeof objectAt(meta, 'usage')?.service_tier === 'string' ? (objectAt(meta, 'usage')?.service_tier as string) : null;
  return fromMeta ?? fromRaw ?? fromAnthropic;
}
