/** A call's counts in the core's non-overlapping buckets (null = not reported). */
export type UsageBuckets = {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedReadTokens: number | null;
  cachedWriteTokens: number | null;
  cachedWrite1hTokens: number | null;
  reasoningTokens: number | null;
  webSearches: number | null;
};

export const NO_USAGE: Readonly<UsageBuckets> = Object.freeze({
  inputTokens: null,
  outputTokens: null,
  cachedReadTokens: null,
  cachedWriteTokens: null,
  cachedWrite1hTokens: null,
  reasoningTokens: null,
  webSearches: null,
});

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One SSE event's data as a JSON object; undefined for anything else (a keep-alive, `[DONE]`, a cut line). */
export function parseJsonObject(text: string): JsonObject | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isObject(parsed) ? parsed : undefined;
}

/** A count the provider sent, or null (never a guess). */
export function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

export const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
