import { formatScaledInteger, toScaledInteger, z } from '@utt/core';
import { findKnownSubscriptionPlan, KNOWN_SUBSCRIPTION_PLAN_IDS, type KnownSubscriptionPlanId } from './known-plans';

const MONEY_DECIMALS = 12;

/** 20, 19.99 or "19.99": USD per seat and month, normalised to an exact decimal string. */
const monthlyUsdSchema = z
  .union(
    [
      z.number().finite().nonnegative('must not be negative').max(1_000_000_000, 'too large'),
      z.string().regex(/^\d+(\.\d{1,12})?$/, 'expected a decimal amount such as "19.99"'),
    ],
    { error: 'expected an amount in USD, such as 20 or "19.99"' },
  )
  .transform((value) => formatScaledInteger(toScaledInteger(value, MONEY_DECIMALS), MONEY_DECIMALS));

/**
 * `2026-03-15`, quoted or not: an unquoted date in YAML arrives as a Date at
 * UTC midnight. Becomes the start of that UTC day.
 */
const dateSchema = z
  .union([z.iso.date('expected a date such as 2026-03-15'), z.date('expected a date such as 2026-03-15')], {
    error: 'expected a date such as 2026-03-15',
  })
  .transform((value) => {
    const date = typeof value === 'string' ? new Date(`${value}T00:00:00Z`) : value;
    return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  });

const planEntrySchema = z
  .strictObject({
    /** Unique within the source; written to the `subscription` label. */
    name: z.string().min(1, 'must not be empty'),
    /** A known plan id: fills provider and monthlyUsd. */
    plan: z.enum(KNOWN_SUBSCRIPTION_PLAN_IDS as [KnownSubscriptionPlanId, ...KnownSubscriptionPlanId[]]).optional(),
    provider: z.string().min(1, 'must not be empty').optional(),
    monthlyUsd: monthlyUsdSchema.optional(),
    seats: z.number().int('expected a whole number').min(1, 'must be at least 1').default(1),
    /** First day of the plan: its month is charged in full. */
    start: dateSchema,
    /** Exclusive: the plan is not active from this day on. */
    end: dateSchema.optional(),
    account: z.string().default(''),
  })
  .superRefine((entry, context) => {
    if (entry.plan === undefined) {
      for (const field of ['provider', 'monthlyUsd'] as const) {
        if (entry[field] === undefined) {
          context.addIssue({ code: 'custom', path: [field], message: 'required when plan does not name a known plan' });
        }
      }
    }
    if (entry.end instanceof Date && entry.start instanceof Date && !(entry.end > entry.start)) {
      context.addIssue({ code: 'custom', path: ['end'], message: 'must be after start (end is exclusive)' });
    }
  })
  .transform((entry) => {
    const known = entry.plan === undefined ? undefined : findKnownSubscriptionPlan(entry.plan);
    return {
      name: entry.name,
      plan: entry.plan,
      provider: (entry.provider ?? known?.provider) as string,
      monthlyUsd: (entry.monthlyUsd ?? known?.monthlyUsd) as string,
      seats: entry.seats,
      start: entry.start,
      end: entry.end,
      account: entry.account,
    };
  });

export const subscriptionConfigSchema = z
  .strictObject({
    plans: z.array(planEntrySchema).min(1, 'list at least one plan'),
  })
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.plans.forEach((plan, index) => {
      if (typeof plan?.name !== 'string') return;
      if (seen.has(plan.name)) context.addIssue({ code: 'custom', path: ['plans', index, 'name'], message: 'is used by an earlier plan; names must be unique' });
      seen.add(plan.name);
    });
  });

/** The config as written in YAML or passed in code. */
export type SubscriptionConfigInput = z.input<typeof subscriptionConfigSchema>;

/** The validated config: every plan resolved to a provider and an exact monthly price. */
export type SubscriptionConfig = z.output<typeof subscriptionConfigSchema>;

export type SubscriptionPlan = SubscriptionConfig['plans'][number];
