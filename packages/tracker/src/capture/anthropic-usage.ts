import { count, isObject, type JsonObject, NO_USAGE, parseJsonObject, type UsageBuckets } from './usage-buckets';

/**
 * Anthropic usage → non-overlapping buckets: `input_tokens` is already
 * uncached input; cache writes are `cache_creation_input_tokens`, of which
 * `cache_creation.ephemeral_1h_input_tokens` had a 1-hour TTL; `output_tokens`
 * is the billed total (thinking included, so thinking_tokens is only the
 * reasoning part of it, never priced on its own).
 */
export function anthropicUsageBuckets(usage: unknown): UsageBuckets {
  if (!isObject(usage)) return { ...NO_USAGE };
  const split = isObject(usage.cache_creation) ? (usage.cache_creation as JsonObject) : undefined;
  const write5m = split ? count(split.ephemeral_5m_input_tokens) : null;
  const write1h = split ? count(split.ephemeral_1h_input_tokens) : null;
  let cachedWrite = count(usage.cache_creation_input_tokens);
  if (cachedWrite === null && (write5m !== null || write1h !== null)) cachedWrite = (write5m ?? 0) + (write1h ?? 0);
  const details = isObject(usage.output_tokens_details) ? (usage.output_tokens_details as JsonObject) : undefined;
  const tools = isObject(usage.server_tool_use) ? (usage.server_tool_use as JsonObject) : undefined;
  return {
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cachedReadTokens: count(usage.cache_read_input_tokens),
    cachedWriteTokens: cachedWrite,
    cachedWrite1hTokens: cachedWrite === null ? null : write1h,
    reasoningTokens: details ? count(details.thinking_tokens) : null,
    webSearches: tools ? count(tools.web_search_requests) : null,
  };
}

export type AnthropicFacts = { model: string | null; id: string | null; serviceTier: string | null; usage: JsonObject | undefined };

export function anthropicResponseFacts(body: unknown): AnthropicFacts {
  if (!isObject(body)) return { model: null, id: null, serviceTier: null, usage: undefined };
  const usage = isObject(body.usage) ? (body.usage as JsonObject) : undefined;
  return {
    model: typeof body.model === 'string' ? body.model : null,
    id: typeof body.id === 'string' ? body.id : null,
    serviceTier: usage && typeof usage.service_tier === 'string' ? usage.service_tier : null,
    usage,
  };
}

const USAGE_EVENT = /"type"\s*:\s*"message_(start|delta)"/;

/**
 * Follows an Anthropic messages stream. message_start carries the id, model,
 * input and cache counts, the 5m/1h cache split and the service tier;
 * every message_delta's usage is cumulative, so a present value overwrites
 * (never adds) and an absent or null one keeps what message_start said.
 */
export function createAnthropicStreamState() {
  const facts: AnthropicFacts = { model: null, id: null, serviceTier: null, usage: undefined };
  let sawDelta = false;
  return {
    facts,
    /** True once a message_delta (the final counts) arrived. */
    complete: () => sawDelta,
    event(data: string) {
      // Only message_start and message_delta carry usage: skip parsing the content deltas.
      if (!USAGE_EVENT.test(data)) return;
      const parsed = parseJsonObject(data);
      if (!parsed) return;
      if (parsed.type === 'message_start' && isObject(parsed.message)) {
        const start = anthropicResponseFacts(parsed.message);
        facts.model = start.model;
        facts.id = start.id;
        facts.serviceTier = start.serviceTier;
        facts.usage = start.usage ? { ...start.usage } : undefined;
      } else if (parsed.type === 'message_delta' && isObject(parsed.usage)) {
        sawDelta = true;
        const usage: JsonObject = { ...facts.usage };
        for (const [key, value] of Object.entries(parsed.usage)) if (value !== null && value !== undefined) usage[key] = value;
        facts.usage = usage;
      }
    },
  };
}
