import type { UsageRow } from '@utt/core';
import { type PriceRegistry, priceUsage } from '@utt/pricing';

/**
 * Prices every row that carries tokens but no cost, with the registry
 * (config overrides → prices file → bundled genai-prices): cost_usd, cost_source
 * 'computed' and the price_ref it used. A row that cannot be priced keeps cost
 * NULL with an unpriced_reason: unpriced is a state, never $0. Rows the adapter
 * already priced (or tried to, per request) are left as they are.
 */
export function priceRows(rows: readonly UsageRow[], registry: PriceRegistry): { rows: UsageRow[]; unpriced: UsageRow[] } {
  const unpriced: UsageRow[] = [];
  const priced = rows.map((row): UsageRow => {
    if (row.cost_usd !== null) return row;
    if (row.unpriced_reason) {
      unpriced.push(row);
      return row;
    }
    const result = priceUsage(registry, row);
    if (result.status === 'priced') {
      return { ...row, cost_usd: result.costUsd, cost_source: 'computed', price_ref: result.priceRef, unpriced_reason: null };
    }
    // A row without token counts (activity, flat fees) has nothing to price: no reason to record.
    if (result.reason === 'no_tokens') return row;
    const marked = { ...row, unpriced_reason: result.unpricedReason };
    unpriced.push(marked);
    return marked;
  });
  return { rows: priced, unpriced };
}
