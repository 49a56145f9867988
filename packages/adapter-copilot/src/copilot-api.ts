import { z } from '@utt/core';

// Response schemas: only the fields the adapter maps, tolerant of fields GitHub
// adds (z.object, not strictObject), strict about the ones it relies on.

const count = z.number().int('expected a whole number').nonnegative('must not be negative');
const dayString = z.iso.date('expected a day such as 2026-09-14');

/** GET …/copilot/metrics/reports/{organization|enterprise}-1-day?day=… (API version 2026-03-10). */
export const reportLinksSchema = z.object({
  download_links: z.array(z.string().min(1, 'must not be empty')),
  report_day: dayString,
});
export type ReportLinks = z.output<typeof reportLinksSchema>;

/** GET …/copilot/metrics/reports/{organization|enterprise}-28-day/latest: used by check() only. */
export const latestReportLinksSchema = z.object({
  download_links: z.array(z.string()),
});

const modelFeatureTotalsSchema = z.object({
  model: z.string().min(1, 'must not be empty'),
  feature: z.string().min(1, 'must not be empty'),
  user_initiated_interaction_count: count,
  code_generation_activity_count: count.optional(),
  code_acceptance_activity_count: count.optional(),
  loc_suggested_to_add_sum: count.optional(),
  loc_added_sum: count.optional(),
});
export type ModelFeatureTotals = z.output<typeof modelFeatureTotalsSchema>;

/**
 * One line of the organisation/enterprise daily report (NDJSON). Field names
 * come from third-party live captures (2026-06), not from a published schema:
 * the figures every capture shows are required, the rest optional.
 */
export const reportDayRecordSchema = z.object({
  day: dayString,
  daily_active_users: count,
  weekly_active_users: count.optional(),
  monthly_active_users: count.optional(),
  monthly_active_chat_users: count.optional(),
  monthly_active_agent_users: count.optional(),
  daily_active_cli_users: count.optional(),
  user_initiated_interaction_count: count,
  code_generation_activity_count: count,
  code_acceptance_activity_count: count,
  loc_suggested_to_add_sum: count.optional(),
  loc_suggested_to_delete_sum: count.optional(),
  loc_added_sum: count.optional(),
  loc_deleted_sum: count.optional(),
  totals_by_model_feature: z.array(modelFeatureTotalsSchema).default([]),
});
export type ReportDayRecord = z.output<typeof reportDayRecordSchema>;

/** The activity figures copied into the activity row's labels, in this order when present. */
export const ACTIVITY_FIGURES = [
  'daily_active_users',
  'weekly_active_users',
  'monthly_active_users',
  'monthly_active_chat_users',
  'monthly_active_agent_users',
  'daily_active_cli_users',
  'user_initiated_interaction_count',
  'code_generation_activity_count',
  'code_acceptance_activity_count',
  'loc_suggested_to_add_sum',
  'loc_suggested_to_delete_sum',
  'loc_added_sum',
  'loc_deleted_sum',
] as const satisfies readonly (keyof ReportDayRecord)[];

const money = z.number().finite('expected a finite number');
const quantity = z.number().finite('expected a finite number').nonnegative('must not be negative');

const billingUsageItemSchema = z.object({
  product: z.string(),
  sku: z.string().min(1, 'must not be empty'),
  model: z.string().nullish(),
  unitType: z.string(),
  grossQuantity: quantity,
  netQuantity: quantity.optional(),
  grossAmount: money.optional(),
  netAmount: money,
});
export type BillingUsageItem = z.output<typeof billingUsageItemSchema>;

/**
 * GET /organizations/{org}/settings/billing/{premium_request|ai_credit}/usage
 * (and the enterprise twin) with year, month and day.
 */
export const billingUsageSchema = z.object({
  timePeriod: z.object({
    year: z.number().int(),
    month: z.number().int().optional(),
    day: z.number().int().optional(),
  }),
  usageItems: z.array(billingUsageItemSchema),
});
export type BillingUsage = z.output<typeof billingUsageSchema>;
