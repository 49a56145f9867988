import { addBuckets, bucketStartsBetween, formatScaledInteger, toScaledInteger, type UsageAdapterV1Window, type UsageRecordInput } from '@utt/core';
import type { SubscriptionPlan } from './subscription-config';

const MONEY_DECIMALS = 12;

/**
 * One `month` record per plan and month whose bucket starts in the window and
 * in which the plan is active for at least a day. There is no proration: a
 * plan starting on the 15th is charged the full month. Tokens and requests stay
 * NULL: a flat fee says nothing about usage.
 */
export function convertSubscriptionPlans(plans: readonly SubscriptionPlan[], window: UsageAdapterV1Window): UsageRecordInput[] {
  const months = bucketStartsBetween(window.start, window.end, 'month');
  const records: UsageRecordInput[] = [];
  for (const plan of plans) {
    for (const month of months) {
      if (!isActiveInMonth(plan, month)) continue;
      records.push({
        granularity: 'month',
        bucket_start: month,
        provider: plan.provider,
        model: '',
        account: plan.account,
        labels: plan.plan === undefined ? { subscription: plan.name } : { plan: plan.plan, subscription: plan.name },
        input_tokens: null,
        output_tokens: null,
        cached_read_tokens: null,
        cached_write_tokens: null,
        cached_write_1h_tokens: null,
        reasoning_tokens: null,
        requests: null,
        cost_usd: monthlyCost(plan),
        cost_source: 'fixed',
        measurement_basis: 'derived_estimate',
      });
    }
  }
  return records;
}

function isActiveInMonth(plan: SubscriptionPlan, monthStart: Date): boolean {
  const monthEnd = addBuckets(monthStart, 'month', 1);
  return plan.start < monthEnd && (plan.end === undefined || plan.end > monthStart);
}

/** monthlyUsd × seats, exactly. */
function monthlyCost(plan: SubscriptionPlan): string {
  return formatScaledInteger(toScaledInteger(plan.monthlyUsd, MONEY_DECIMALS) * BigInt(plan.seats), MONEY_DECIMALS);
}
