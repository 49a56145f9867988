/**
 * A flat-fee plan utt knows the list price of. Prices are the monthly list
 * price in USD with monthly billing, per user (per seat for team plans), as
 * checked on `priceCheckedOn`. Annual-billing discounts, taxes, regional
 * prices and promotions are not modelled: set `monthlyUsd` on the plan entry
 * to what you actually pay.
 */
export type KnownSubscriptionPlan = {
  /** What a config entry's `plan` names; also written to the `plan` label. */
  readonly id: string;
  /** Written to token_usage.provider. */
  readonly provider: string;
  readonly displayName: string;
  /** Exact decimal string, USD per user (or seat) and month. */
  readonly monthlyUsd: string;
  /** ISO date the price was last checked against the vendor's pricing page. */
  readonly priceCheckedOn: string;
};

const CHECKED_ON = '2026-11-22';

export const KNOWN_SUBSCRIPTION_PLANS = [
  { id: 'chatgpt-plus', provider: 'openai', displayName: 'ChatGPT Plus', monthlyUsd: '20', priceCheckedOn: CHECKED_ON },
  { id: 'chatgpt-pro', provider: 'openai', displayName: 'ChatGPT Pro', monthlyUsd: '200', priceCheckedOn: CHECKED_ON },
  { id: 'claude-pro', provider: 'anthropic', displayName: 'Claude Pro', monthlyUsd: '20', priceCheckedOn: CHECKED_ON },
  { id: 'claude-max-5x', provider: 'anthropic', displayName: 'Claude Max 5x', monthlyUsd: '100', priceCheckedOn: CHECKED_ON },
  { id: 'claude-max-20x', provider: 'anthropic', displayName: 'Claude Max 20x', monthlyUsd: '200', priceCheckedOn: CHECKED_ON },
  { id: 'google-ai-pro', provider: 'google', displayName: 'Google AI Pro (Gemini)', monthlyUsd: '19.99', priceCheckedOn: CHECKED_ON },
  { id: 'google-ai-ultra', provider: 'google', displayName: 'Google AI Ultra', monthlyUsd: '249.99', priceCheckedOn: CHECKED_ON },
  { id: 'perplexity-pro', provider: 'perplexity', displayName: 'Perplexity Pro', monthlyUsd: '20', priceCheckedOn: CHECKED_ON },
  { id: 'cursor-pro', provider: 'cursor', displayName: 'Cursor Pro', monthlyUsd: '20', priceCheckedOn: CHECKED_ON },
  { id: 'cursor-ultra', provider: 'cursor', displayName: 'Cursor Ultra', monthlyUsd: '200', priceCheckedOn: CHECKED_ON },
  { id: 'windsurf-pro', provider: 'windsurf', displayName: 'Windsurf Pro', monthlyUsd: '15', priceCheckedOn: CHECKED_ON },
  { id: 'copilot-business', provider: 'github', displayName: 'GitHub Copilot Business', monthlyUsd: '19', priceCheckedOn: CHECKED_ON },
  { id: 'copilot-enterprise', provider: 'github', displayName: 'GitHub Copilot Enterprise', monthlyUsd: '39', priceCheckedOn: CHECKED_ON },
] as const satisfies readonly KnownSubscriptionPlan[];

export type KnownSubscriptionPlanId = (typeof KNOWN_SUBSCRIPTION_PLANS)[number]['id'];

export const KNOWN_SUBSCRIPTION_PLAN_IDS: readonly KnownSubscriptionPlanId[] = KNOWN_SUBSCRIPTION_PLANS.map((plan) => plan.id);

export function findKnownSubscriptionPlan(id: string): KnownSubscriptionPlan | undefined {
  return KNOWN_SUBSCRIPTION_PLANS.find((plan) => plan.id === id);
}
