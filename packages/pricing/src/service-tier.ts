/**
 * Multipliers the providers publish for cheaper or dearer service tiers,
 * applied to every rate of a record. Sources:
 * - OpenAI, https://platform.openai.com/docs/pricing: Batch API 50% off; Flex
 *   processing is billed at Batch rates. Priority is priced per model: no
 *   built-in multiplier, so a priority row stays unpriced unless configured.
 * - Anthropic, https://docs.anthropic.com/en/docs/about-claude/pricing: Batch
 *   processing 50% off input and output; Priority Tier is a contract price.
 * - Google, https://ai.google.dev/gemini-api/docs/pricing: Batch Mode is 50%
 *   of the interactive price.
 */
export const BUILT_IN_SERVICE_TIERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  openai: { batch: '0.5', flex: '0.5' },
  azure: { batch: '0.5' },
  anthropic: { batch: '0.5' },
  google: { batch: '0.5' },
};

/** Tier names that mean "the list price". */
const STANDARD_TIERS = new Set(['', 'standard', 'default', 'auto', 'on_demand', 'scale']);

/**
 * The service tier of a record from its labels: `service_tier` (as OpenAI and
 * Anthropic report it), or `batch: "true"`. Standard tiers come back as ''.
 */
export function serviceTierOf(labels: Readonly<Record<string, string>> | undefined): string {
  if (!labels) return '';
  const tier = (labels.service_tier ?? labels.serviceTier ?? '').trim().toLowerCase();
  if (tier !== '' && !STANDARD_TIERS.has(tier)) return tier;
  const batch = (labels.batch ?? '').trim().toLowerCase();
  if (batch === 'true' || batch === '1' || batch === 'yes') return 'batch';
  return '';
}

/** The multiplier for a tier ('1' for standard), or undefined when nobody publishes one. */
export function serviceTierMultiplier(
  tier: string,
  provider: string,
  configured: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (tier === '') return '1';
  return configured?.[tier] ?? BUILT_IN_SERVICE_TIERS[provider]?.[tier];
}
