/** genai-prices' model and provider matching rules. */
export type MatchRule =
  | { readonly equals: string }
  | { readonly starts_with: string }
  | { readonly ends_with: string }
  | { readonly contains: string }
  | { readonly regex: string }
  | { readonly or: readonly MatchRule[] }
  | { readonly and: readonly MatchRule[] };

/** Case-insensitive like genai-prices, except `regex`, which it also runs as written. */
export function matchesRule(rule: MatchRule, text: string): boolean {
  const lower = text.toLowerCase();
  if ('or' in rule) return rule.or.some((inner) => matchesRule(inner, text));
  if ('and' in rule) return rule.and.every((inner) => matchesRule(inner, text));
  if ('equals' in rule) return lower === rule.equals.toLowerCase();
  if ('starts_with' in rule) return lower.startsWith(rule.starts_with.toLowerCase());
  if ('ends_with' in rule) return lower.endsWith(rule.ends_with.toLowerCase());
  if ('contains' in rule) return lower.includes(rule.contains.toLowerCase());
  if ('regex' in rule) return new RegExp(rule.regex).test(text);
  return false;
}
