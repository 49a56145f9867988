import { addDecimals, formatScaledInteger, type ProviderCostRecordInput, type TimeWindow, toScaledInteger } from '@utt/core';
import type { AnthropicBucket, AnthropicCostResult } from './anthropic-usage-api';
import { ANTHROPIC_PROVIDER, checkBucket } from './convert-anthropic-usage';

/**
 * Cost report buckets (one per UTC day) → provider_cost records. The report's
 * `amount` is a decimal string in cents; it becomes dollars exactly, as a
 * decimal string ("4821.337" → "48.21337"), never through a float. The line
 * item is the report's description ("Claude Sonnet 4.6 Usage - Input Tokens"),
 * else its cost type; results sharing one line item are added up exactly.
 */
export function convertAnthropicCosts(
  buckets: readonly AnthropicBucket<AnthropicCostResult>[],
  dayWindow: TimeWindow,
  endpointUrl: string,
): ProviderCostRecordInput[] {
  const byKey = new Map<string, ProviderCostRecordInput & { amount_usd: string }>();
  for (const bucket of buckets) {
    const day = checkBucket(bucket, dayWindow, endpointUrl);
    for (const result of bucket.results) {
      const record = {
        bucket_start: day,
        provider: ANTHROPIC_PROVIDER,
        account: result.workspace_id ?? '',
        model: result.model ?? '',
        line_item: result.description?.trim() || result.cost_type?.trim() || 'total',
        amount_usd: centsToDollars(result.amount),
        currency: result.currency.toUpperCase(),
      };
      const key = JSON.stringify([day.getTime(), record.account, record.model, record.line_item, record.currency]);
      const existing = byKey.get(key);
      if (existing) existing.amount_usd = addDecimals([existing.amount_usd, record.amount_usd], 24);
      else byKey.set(key, record);
    }
  }
  return [...byKey.values()];
}

/** "123.45" cents → "1.2345" dollars: the decimal point moves two places, every digit kept. */
export function centsToDollars(cents: string): string {
  const decimals = cents.split('.')[1]?.length ?? 0;
  return formatScaledInteger(toScaledInteger(cents, decimals), decimals + 2);
}
