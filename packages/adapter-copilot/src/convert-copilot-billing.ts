import { addDecimals, formatScaledInteger, type ProviderCostRecordInput, toScaledInteger, type UsageRecordInput } from '@utt/core';
import type { BillingUsageItem } from './copilot-api';
import { COPILOT_PROVIDER } from './convert-copilot-metrics';

/** The two billing usage reports: premium requests (per-request billing) and AI credits (since 2026-06). */
export type BillingReportKind = 'premium_requests' | 'ai_credits';

export type ConvertBillingOptions = {
  readonly day: string;
  readonly kind: BillingReportKind;
  readonly account: string;
};

const MONEY_DECIMALS = 12;

/**
 * One day of a billing usage report as usage rows and provider_cost rows,
 * one each per (model, SKU). `requests` stays NULL: the same requests are
 * already counted on the day's interaction rows, and `utt report` sums
 * `requests` across rows, so counting them here too would double them.
 * Dollars are the net amount (after the included allowance), as exact
 * decimal strings.
 */
export function convertBillingDay(
  items: readonly BillingUsageItem[],
  options: ConvertBillingOptions,
): { records: UsageRecordInput[]; costs: ProviderCostRecordInput[] } {
  const bucketStart = `${options.day}T00:00:00.000Z`;
  const groups = new Map<string, { model: string; sku: string; amounts: string[] }>();
  for (const item of items) {
    const model = item.model ?? '';
    const key = JSON.stringify([model, item.sku]);
    const group = groups.get(key) ?? { model, sku: item.sku, amounts: [] };
    group.amounts.push(decimalFromNumber(item.netAmount));
    groups.set(key, group);
  }

  const records: UsageRecordInput[] = [];
  const costs: ProviderCostRecordInput[] = [];
  for (const group of groups.values()) {
    const amount = addDecimals(group.amounts, MONEY_DECIMALS);
    const nonNegative = !amount.startsWith('-');
    records.push({
      granularity: 'day',
      bucket_start: bucketStart,
      provider: COPILOT_PROVIDER,
      model: group.model,
      account: options.account,
      labels: { metric_set: options.kind, sku: group.sku },
      requests: null,
      // A credit (negative net) cannot be a usage row's cost; it still reaches provider_cost.
      cost_usd: nonNegative ? amount : null,
      cost_source: nonNegative ? 'provider' : null,
      measurement_basis: 'provider_aggregate',
    });
    costs.push({
      bucket_start: bucketStart,
      provider: COPILOT_PROVIDER,
      account: options.account,
      model: group.model,
      line_item: `${options.kind}:${group.sku}`,
      amount_usd: amount,
      currency: 'USD',
    });
  }
  return { records, costs };
}

/** A JSON number as an exact decimal string with at most 12 decimals (0.1 + 0.2 style noise rounded away). */
export function decimalFromNumber(value: number): string {
  return formatScaledInteger(toScaledInteger(value, MONEY_DECIMALS), MONEY_DECIMALS);
}
