import { anthropicUsageBuckets } from './anthropic-usage';
import { googleUsageBuckets } from './google-usage';
import { openAIUsageBuckets } from './openai-usage';
import { count, isObject, type JsonObject, NO_USAGE, type UsageBuckets } from './usage-buckets';

/**
 * The ledger's provider for an AI SDK provider id: the vendor that bills the
 * call ('openai.chat' → openai, 'google.vertex.chat' → google, and
 * 'vertex.anthropic.messages' → google too: Vertex bills Claude, and prices it
 * under google). Which usage rules apply is usageRuleOf's business.
 */
export function vendorOf(providerId: string): string {
  const vendor = providerId.split('.')[0] ?? providerId;
  return vendor === 'google' || vendor === 'vertex' ? 'google' : vendor;
}

/**
 * Provider packages whose usage numbers have a known meaning (in-process.md §1.4):
 * - anthropic: @ai-sdk/anthropic, and the same model class behind
 *   @ai-sdk/google-vertex/anthropic ('vertex.anthropic.messages') and
 *   @ai-sdk/amazon-bedrock/anthropic ('bedrock.anthropic.messages'): raw usage is
 *   Anthropic's; v5's inputTokens excludes cache reads and writes.
 * - openai: @ai-sdk/openai and @ai-sdk/azure: inputTokens includes cache reads
 *   (and writes, when OpenAI reports them).
 * - google: @ai-sdk/google and @ai-sdk/google-vertex: inputTokens includes
 *   cached content; v5's outputTokens excludes thoughts.
 * - bedrock: @ai-sdk/amazon-bedrock's Converse models ('amazon-bedrock'): raw
 *   usage is Converse's, whose inputTokens excludes cache reads and writes.
 */
export type AiSdkUsageRule = 'anthropic' | 'openai' | 'google' | 'bedrock';

/** The usage rule of an AI SDK provider id, or undefined when its numbers have no known meaning. */
export function usageRuleOf(providerId: string): AiSdkUsageRule | undefined {
  const segments = providerId.toLowerCase().split('.');
  if (segments.includes('anthropic')) return 'anthropic';
  const first = segments[0];
  if (first === 'openai' || first === 'azure') return 'openai';
  if (first === 'google' || first === 'vertex') return 'google';
  if (first === 'amazon-bedrock' || first === 'bedrock') return 'bedrock';
  return undefined;
}

const objectAt = (value: unknown, ...path: string[]): JsonObject | undefined => {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : undefined;
};

/** Buckets of one AI SDK call, and why the call is left unpriced when a bucket it was charged for cannot be rebuilt. */
export type AiSdkUsage = UsageBuckets & { unpricedReason?: string };

/** Bedrock Converse usage: inputTokens excludes the cache reads and writes it reports beside it. */
function bedrockUsageBuckets(usage: JsonObject): UsageBuckets {
  return {
    inputTokens: count(usage.inputTokens),
    outputTokens: count(usage.outputTokens),
    cachedReadTokens: count(usage.cacheReadInputTokens),
    cachedWriteTokens: count(usage.cacheWriteInputTokens),
    cachedWrite1hTokens: null,
    reasoningTokens: null,
    webSearches: null,
  };
}

/**
 * Anthropic's own usage object for one call, put together from what the
 * package reports, which differs by version on a stream:
 * - @ai-sdk/anthropic 3.0.0's `usage.raw` has the counts but not message_start's
 *   `cache_creation` (the 5m/1h split), which its providerMetadata.anthropic.usage
 *   keeps: the metadata is the base, `usage.raw`'s fields over it;
 * - @ai-sdk/anthropic 2.0.0's providerMetadata.anthropic.usage is message_start's,
 *   whose output_tokens is a placeholder (1): message_delta's cumulative count is
 *   only in the normalised outputTokens. Output counts only grow, so the larger is the end's.
 */
function anthropicRawUsage(usage: JsonObject, anthropicMeta: JsonObject | undefined): JsonObject | undefined {
  const fromMeta = objectAt(anthropicMeta, 'usage');
  const fromUsage = isObject(usage.raw) ? usage.raw : undefined;
  if (!fromMeta && !fromUsage) return undefined;
  const merged: JsonObject = { ...fromMeta, ...fromUsage };
  const normalisedOutput = count(isObject(usage.outputTokens) ? usage.outputTokens.total : usage.outputTokens);
  const rawOutput = count(merged.output_tokens);
  if (normalisedOutput !== null && (rawOutput === null || normalisedOutput > rawOutput)) merged.output_tokens = normalisedOutput;
  return merged;
}

/**
 * AI SDK usage (v5's flat LanguageModelV2Usage or v6's detailed
 * LanguageModelV3Usage) → non-overlapping buckets, by the rules of the
 * provider package (usageRuleOf), never from `total`:
 * 1. the provider's raw usage (v6 `usage.raw`, else the raw usage the package
 *    puts in providerMetadata), read as that provider's own API response;
 * 2. else v6's noCache/cacheRead/cacheWrite, which mean the same for every package;
 * 3. else the flat numbers (v5, or a v2 model under ai 6, whose `total` is v2's
 *    inputTokens) with the meaning the package gives them.
 * For a package without a known rule, input that cannot be told apart from
 * the cache reads reported beside it stays NULL, and the call unpriced with
 * the reason (`usage_ambiguous:<provider id>`), rather than a guess.
 */
export function aiSdkUsageBuckets(providerId: string, usage: unknown, providerMetadata: unknown): AiSdkUsage {
  if (!isObject(usage)) return { ...NO_USAGE };
  const rule = usageRuleOf(providerId);
  // The package's own metadata key ('anthropic', 'google', 'bedrock', …), and Anthropic's for Claude on Vertex or Bedrock.
  const ownMeta = objectAt(providerMetadata, providerId.split('.')[0] ?? providerId);
  const anthropicMeta = rule === 'anthropic' ? (objectAt(providerMetadata, 'anthropic') ?? ownMeta) : undefined;
  if (rule === 'anthropic') {
    const anthropicRaw = anthropicRawUsage(usage, anthropicMeta);
    if (anthropicRaw) return anthropicUsageBuckets(anthropicRaw);
  }
  const raw = isObject(usage.raw)
    ? usage.raw
    : rule === 'google'
      ? (objectAt(providerMetadata, 'google', 'usageMetadata') ?? objectAt(ownMeta, 'usageMetadata'))
      : undefined;
  if (raw) {
    if (rule === 'google') return googleUsageBuckets(raw);
    if (rule === 'openai') return openAIUsageBuckets(raw);
    if (rule === 'bedrock') return bedrockUsageBuckets(raw);
  }
  let flat = usage;
  if (isObject(usage.inputTokens) || isObject(usage.outputTokens)) {
    // v6 (LanguageModelV3Usage).
    const input = isObject(usage.inputTokens) ? usage.inputTokens : {};
    const output = isObject(usage.outputTokens) ? usage.outputTokens : {};
    const noCache = count(input.noCache);
    if (noCache !== null) {
      return {
        inputTokens: noCache,
        outputTokens: count(output.total),
        cachedReadTokens: count(input.cacheRead),
        cachedWriteTokens: count(input.cacheWrite),
        cachedWrite1hTokens: null,
        reasoningTokens: count(output.reasoning),
        webSearches: null,
      };
    }
    // No noCache: a v2 model under ai 6 (asLanguageModelV3), whose numbers are v2's.
    flat = { inputTokens: input.total, outputTokens: output.total, cachedInputTokens: input.cacheRead, reasoningTokens: output.reasoning };
  }
  // v5 (LanguageModelV2Usage): flat numbers whose meaning depends on the package.
  const inputTokens = count(flat.inputTokens);
  const outputTokens = count(flat.outputTokens);
  const cached = count(flat.cachedInputTokens);
  const reasoning = count(flat.reasoningTokens);
  const buckets: AiSdkUsage = {
    inputTokens,
    outputTokens,
    cachedReadTokens: cached,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: reasoning,
    webSearches: null,
  };
  if (rule === 'anthropic') {
    // @ai-sdk/anthropic@2: inputTokens excludes cache reads and writes; writes are only in providerMetadata.
    buckets.cachedWriteTokens = count(anthropicMeta?.cacheCreationInputTokens);
  } else if (rule === 'bedrock') {
    // @ai-sdk/amazon-bedrock@3: Converse's inputTokens, which excludes the cache; writes are only in providerMetadata.
    buckets.cachedWriteTokens = count(objectAt(providerMetadata, 'bedrock', 'usage')?.cacheWriteInputTokens ?? objectAt(ownMeta, 'usage')?.cacheWriteInputTokens);
  } else if (rule === 'openai') {
    // prompt_tokens / input_tokens: cache reads and writes included.
    const written = count(objectAt(ownMeta, 'usage')?.cacheWriteTokens);
    buckets.cachedWriteTokens = written;
    buckets.inputTokens = inputTokens === null ? null : Math.max(0, inputTokens - (cached ?? 0) - (written ?? 0));
  } else if (rule === 'google') {
    // promptTokenCount: cached content included; v5's outputTokens (candidates) excludes thoughts.
    buckets.inputTokens = inputTokens === null ? null : Math.max(0, inputTokens - (cached ?? 0));
    buckets.outputTokens = outputTokens === null ? null : outputTokens + (reasoning ?? 0);
  } else if (inputTokens !== null && cached !== null && cached > 0) {
    // No known rule: the input may or may not include the cache reads reported beside it. With none, both meanings agree.
    buckets.inputTokens = null;
    buckets.unpricedReason = `usage_ambiguous:${providerId}`;
  }
  return buckets;
}

/** The service tier the provider metadata reports, if any. */
export function aiSdkServiceTier(vendor: string, providerMetadata: unknown, raw: unknown): string | null {
  const fromRaw = isObject(raw) && typeof raw.service_tier === 'string' ? raw.service_tier : null;
  const meta = objectAt(providerMetadata, vendor);
  const fromMeta = typeof meta?.serviceTier === 'string' ? meta.serviceTier : null;
  const fromAnthropic = typeof objectAt(meta, 'usage')?.service_tier === 'string' ? (objectAt(meta, 'usage')?.service_tier as string) : null;
  return fromMeta ?? fromRaw ?? fromAnthropic;
}
