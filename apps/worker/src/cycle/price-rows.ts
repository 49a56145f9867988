import { computeCost, findPrice, type PriceTable, type UsageRow } from '@utt/core';

/**
 * Prices every row that carries tokens but no cost: cost_usd from the per-million
 * table and cost_source 'computed'. A row without a matching price (or with
 * tokens in a bucket the price has no rate for) keeps cost NULL: unpriced is a
 * state, never $0.
 */
export function priceRows(rows: readonly UsageRow[], pricing: PriceTable): { rows: UsageRow[]; unpriced: UsageRow[] } {
  const unpriced: UsageRow[] = [];
  const priced = rows.map((row) => {
    if (row.cost_usd !== null) return row;
    const result = computeCost(row, findPrice(pricing, row.provider, row.model)?.price);
    if (result.status === 'priced') return { ...row, cost_usd: result.costUsd, cost_source: 'computed' as const };
    if (result.reason !== 'no_tokens') unpriced.push(row);
    return row;
  });
  return { rows: priced, unpriced };
}
