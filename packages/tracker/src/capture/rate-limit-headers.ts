/** Rate-limit response headers a quota monitor reads (lower-case names): OpenAI's, Anthropic's, and retry-after. */
export const RATE_LIMIT_HEADER = /^(x-ratelimit-|anthropic-ratelimit-|retry-after$|x-ratelimit$)/;

/** The rate-limit headers of a plain header record (an SDK's response headers), names lower-cased; undefined when none. */
export function pickRateLimitHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  let picked: Record<string, string> | undefined;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (RATE_LIMIT_HEADER.test(lower)) (picked ??= {})[lower] = headers[name] as string;
  }
  return picked;
}
