import { addDecimals, formatScaledInteger, type ProviderCostRecordInput, type TimeWindow, toScaledInteger } from '@utt/core';
import type { OpenaiBucket, OpenaiCostsResult } from './openai-usage-api';
import { checkBucket, OPENAI_PROVIDER } from './convert-openai-usage';

const MONEY_DECIMALS = 12;

/**
 * Costs API buckets (one per UTC day) → provider_cost records. Amounts are in
 * dollars (`amount.value`), kept as exact decimal strings. The model is read
 * from line items shaped "<model>, <what>" (the format in OpenAI's example;
 * not a documented contract), else ''. A result without an amount billed
 * nothing and is skipped.
 */
export function convertOpenaiCosts(
  buckets: readonly OpenaiBucket<OpenaiCostsResult>[],
  dayWindow: TimeWindow,
  endpointUrl: string,
): ProviderCostRecordInput[] {
  const byKey = new Map<string, ProviderCostRecordInput & { amount_usd: string }>();
  for (const bucket of buckets) {
    const day = checkBucket(bucket, dayWindow, endpointUrl);
    for (const result of bucket.results) {
      if (!result.amount) continue;
      const lineItem = result.line_item?.trim() || 'total';
      const record = {
        bucket_start: day,
        provider: OPENAI_PROVIDER,
        account: result.project_id ?? '',
        model: modelOfLineItem(lineItem),
        line_item: lineItem,
        amount_usd: formatScaledInteger(toScaledInteger(result.amount.value, MONEY_DECIMALS), MONEY_DECIMALS),
        currency: result.amount.currency.toUpperCase(),
      };
      const key = JSON.stringify([day.getTime(), record.account, record.model, record.line_item, record.currency]);
      const existing = byKey.get(key);
      if (existing) existing.amount_usd = addDecimals([existing.amount_usd, record.amount_usd], MONEY_DECIMALS);
      else byKey.set(key, record);
    }
  }
  return [...byKey.values()];
}

/** "gpt-5.2, input" → "gpt-5.2"; a line item without that shape is not tied to a model. */
export function modelOfLineItem(lineItem: string): string {
  const match = /^([A-Za-z0-9][\w.:/-]*),\s*\S/.exec(lineItem);
  return match?.[1] ?? '';
}
