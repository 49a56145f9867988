import type { UsageRow } from '@utt/core';

/**
 * Whether priceRows looks the row's price up: it has no cost and no reason
 * for having none. Without such a row the registry need not be loaded (nor
 * @utt/pricing, nor priceRows' module).
 */
export function needsPrice(row: UsageRow): boolean {
  return row.cost_usd === null && !row.unpriced_reason;
}
