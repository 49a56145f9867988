import type { UsageRow } from '@utt/core';
import { createUsagePricer, type PriceRegistry } from '@utt/pricing';
import { needsPrice } from './needs-price';

/**
 * Prices every row that carries tokens but no cost, with the registry
 * (config overrides → prices file → bundled genai-prices): cost_usd, cost_source
 * 'computed' and the price_ref it used. A row that cannot be priced keeps cost
 * NULL with an unpriced_reason: unpriced is a state, never $0. Rows the adapter
 * already priced (or tried to, per request) are left as they are.
 *
 * The registry is asked once per model and each model's rates made a plan once
 * per price version and tier (createUsagePricer): a row is then its token
 * counts times the plan's rates. The rows are the cycle's own (toUsageRows
 * made them): their price columns are set in place, not copied into new rows.
 */
export function priceRows(rows: UsageRow[], registry: PriceRegistry | undefined): { rows: UsageRow[]; unpriced: UsageRow[] } {
  const unpriced: UsageRow[] = [];
  let price: ReturnType<typeof createUsagePricer> | undefined;
  for (const row of rows) {
    if (!needsPrice(row)) {
      if (row.cost_usd === null) unpriced.push(row);
      continue;
    }
    if (!registry) throw new Error('priceRows: a row needs a price and no price registry was loaded');
    price ??= createUsagePricer(registry);
    const result = price(row);
    if (result.status === 'priced') {
      row.cost_usd = result.costUsd;
      row.cost_source = 'computed';
      row.price_ref = result.priceRef;
      row.unpriced_reason = null;
      continue;
    }
    // A row without token counts (activity, flat fees) has nothing to price: no reason to record.
    if (result.reason === 'no_tokens') continue;
    row.unpriced_reason = result.unpricedReason;
    unpriced.push(row);
  }
  return { rows, unpriced };
}
