import { count, isObject, type JsonObject, NO_USAGE, parseJsonObject, type UsageBuckets } from './usage-buckets';

/**
 * OpenAI usage → non-overlapping buckets, for Chat Completions
 * (`prompt_tokens`, `prompt_tokens_details`), Responses (`input_tokens`,
 * `input_tokens_details`) and Embeddings (`prompt_tokens` only). The prompt
 * count includes cache reads and cache writes, so uncached input is what is
 * left; reasoning is part of the completion count.
 */
export function openAIUsageBuckets(usage: unknown): UsageBuckets {
  if (!isObject(usage)) return { ...NO_USAGE };
  const responses = 'input_tokens' in usage;
  const prompt = count(responses ? usage.input_tokens : usage.prompt_tokens);
  const promptDetails = (responses ? usage.input_tokens_details : usage.prompt_tokens_details) as JsonObject | undefined;
  const outputDetails = (responses ? usage.output_tokens_details : usage.completion_tokens_details) as JsonObject | undefined;
  const cachedRead = isObject(promptDetails) ? count(promptDetails.cached_tokens) : null;
  const cachedWrite = isObject(promptDetails) ? count(promptDetails.cache_write_tokens) : null;
  const output = count(responses ? usage.output_tokens : usage.completion_tokens);
  const embeddings = !responses && !('completion_tokens' in usage);
  return {
    inputTokens: prompt === null ? null : Math.max(0, prompt - (cachedRead ?? 0) - (cachedWrite ?? 0)),
    outputTokens: embeddings ? null : output,
    cachedReadTokens: cachedRead,
    cachedWriteTokens: cachedWrite,
    cachedWrite1hTokens: null,
    reasoningTokens: isObject(outputDetails) ? count(outputDetails.reasoning_tokens) : null,
    webSearches: null,
  };
}

/** What a finished OpenAI call reports besides usage. */
export type OpenAIResponseFacts = { model: string | null; id: string | null; serviceTier: string | null; usage: unknown };

/** Facts of a non-streamed response body (chat completion, response, embedding list). */
export function openAIResponseFacts(body: unknown): OpenAIResponseFacts {
  if (!isObject(body)) return { model: null, id: null, serviceTier: null, usage: undefined };
  return {
    model: typeof body.model === 'string' ? body.model : null,
    id: typeof body.id === 'string' ? body.id : null,
    serviceTier: typeof body.service_tier === 'string' ? body.service_tier : null,
    usage: body.usage,
  };
}

// Whitespace-tolerant: OpenAI-compatible servers (vLLM, LiteLLM, …) do not all write compact JSON. Sticky: each is tried
// only where its key was found (a string search runs far faster than the expression over the whole event).
const AFTER_USAGE_KEY = /\s*:\s*\{/y;
const AFTER_TYPE_KEY = /\s*:\s*"response\.(completed|incomplete|failed)"/y;

/** Whether `data` holds `key` (quoted) followed by what `after` matches: the expression `"key"` + `after`, unanchored. */
function holdsKeyFollowedBy(data: string, key: string, after: RegExp): boolean {
  for (let at = data.indexOf(key); at !== -1; at = data.indexOf(key, at + 1)) {
    after.lastIndex = at + key.length;
    if (after.test(data)) return true;
  }
  return false;
}

/** Whether an event of an OpenAI stream is one that is parsed once the stream's id is known: it may carry usage or the final response. */
export function carriesOpenAIUsage(data: string): boolean {
  return holdsKeyFollowedBy(data, '"usage"', AFTER_USAGE_KEY) || holdsKeyFollowedBy(data, '"type"', AFTER_TYPE_KEY);
}

/**
 * Sets in `facts` what one event of an OpenAI stream names: model, id and
 * service tier when it names them, usage when it is present and not null.
 * With `onlyUnset`, only fields still unset are set (an event read after a
 * later one, from the end of a stream backwards, never overrides it).
 */
export function applyOpenAIEvent(facts: OpenAIResponseFacts, data: string, onlyUnset = false): void {
  const parsed = parseJsonObject(data);
  if (!parsed) return;
  let model: unknown;
  let id: unknown;
  let serviceTier: unknown;
  let usage: unknown;
  const type = parsed.type;
  if (typeof type === 'string' && type.startsWith('response.')) {
    const response = parsed.response;
    if (!isObject(response)) return;
    ({ model, id, service_tier: serviceTier, usage } = response);
  } else {
    ({ model, id, service_tier: serviceTier, usage } = parsed);
  }
  if (typeof model === 'string' && (!onlyUnset || facts.model === null)) facts.model = model;
  if (typeof id === 'string' && (!onlyUnset || facts.id === null)) facts.id = id;
  if (typeof serviceTier === 'string' && (!onlyUnset || facts.serviceTier === null)) facts.serviceTier = serviceTier;
  if (usage !== undefined && usage !== null && (!onlyUnset || facts.usage === undefined)) facts.usage = usage;
}

/**
 * Follows an OpenAI stream. Chat chunks carry id/model on every chunk and usage
 * only in the extra final chunk that `stream_options.include_usage` asks for;
 * Responses events carry the whole response (with usage) in
 * response.completed / response.incomplete / response.failed.
 */
export function createOpenAIStreamState() {
  const facts: OpenAIResponseFacts = { model: null, id: null, serviceTier: null, usage: undefined };
  return {
    facts,
    event(data: string) {
      if (data === '[DONE]') return;
      // Only a few events carry what is recorded: skip parsing the content deltas in between.
      if (facts.id !== null && !carriesOpenAIUsage(data)) return;
      applyOpenAIEvent(facts, data);
    },
  };
}
