import { defineAdapter } from '@utt/core';
import { convertSubscriptionPlans } from './convert-subscription-plans';
import { subscriptionConfigSchema } from './subscription-config';

/**
 * Flat-fee subscriptions (ChatGPT, Claude, Gemini, Cursor, Copilot seats…):
 * one fixed-cost `month` row per plan and month. Reads only its config: no
 * network, no secrets.
 */
export const subscriptionAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'subscription',
  sourceSystem: 'subscription',
  configSchema: subscriptionConfigSchema,
  capabilities: {
    granularities: ['month'],
    cacheTokens: 'none',
    costSource: 'fixed',
    measurementBasis: 'derived_estimate',
    maxBackfillDays: null,
    windowed: true,
  },
  async check(context) {
    const count = context.config.plans.length;
    return { ok: true, detail: `${count} plan${count === 1 ? '' : 's'} configured; nothing to call` };
  },
  async collect(window, context) {
    return convertSubscriptionPlans(context.config.plans, window);
  },
});
