export { subscriptionAdapter, subscriptionAdapter as default } from './subscription-adapter';
export {
  type SubscriptionConfig,
  type SubscriptionConfigInput,
  subscriptionConfigSchema,
  type SubscriptionPlan,
} from './subscription-config';
export {
  findKnownSubscriptionPlan,
  KNOWN_SUBSCRIPTION_PLAN_IDS,
  KNOWN_SUBSCRIPTION_PLANS,
  type KnownSubscriptionPlan,
  type KnownSubscriptionPlanId,
} from './known-plans';
export { convertSubscriptionPlans } from './convert-subscription-plans';
export { VERSION } from './version';
