import { describe, expect, it } from 'vitest';
import { findKnownSubscriptionPlan, KNOWN_SUBSCRIPTION_PLANS } from './known-plans';

describe('KNOWN_SUBSCRIPTION_PLANS', () => {
  it('has unique kebab-case ids, lower-case providers, exact prices and a check date', () => {
    const ids = KNOWN_SUBSCRIPTION_PLANS.map((plan) => plan.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const plan of KNOWN_SUBSCRIPTION_PLANS) {
      expect(plan.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(plan.provider).toMatch(/^[a-z0-9-]+$/);
      expect(plan.monthlyUsd).toMatch(/^\d+(\.\d+)?$/);
      expect(plan.priceCheckedOn).toBe('2026-11-22');
    }
  });

  it('lists the list prices it was checked against', () => {
    expect(Object.fromEntries(KNOWN_SUBSCRIPTION_PLANS.map((plan) => [plan.id, `${plan.provider} ${plan.monthlyUsd}`]))).toEqual({
      'chatgpt-plus': 'openai 20',
      'chatgpt-pro': 'openai 200',
      'claude-pro': 'anthropic 20',
      'claude-max-5x': 'anthropic 100',
      'claude-max-20x': 'anthropic 200',
      'google-ai-pro': 'google 19.99',
      'google-ai-ultra': 'google 249.99',
      'perplexity-pro': 'perplexity 20',
      'cursor-pro': 'cursor 20',
      'cursor-ultra': 'cursor 200',
      'windsurf-pro': 'windsurf 15',
      'copilot-business': 'github 19',
      'copilot-enterprise': 'github 39',
    });
  });

  it('finds a plan by id', () => {
    expect(findKnownSubscriptionPlan('claude-max-20x')?.displayName).toBe('Claude Max 20x');
    expect(findKnownSubscriptionPlan('nope')).toBeUndefined();
  });
});
