import type { UsageRow } from '@utt/core';
import { type PriceRegistry, priceUsage } from '@utt/pricing';

/**
 * Prices every row that carries tokens but no cost, with the registry
 * (config overrides → prices file → bundled genai-prices): cost_usd, cost_source
 * 'computed' and the price_ref it used. A row that cannot be priced keeps cost
 * NULL with an unpriced_reason: unpriced is a state, never $0. Rows the adapter
 * already priced (or tried to, per request) are left as they are.
 */
export function priceRows(rows: readonly UsageRow[], registry: PriceRegistry | undefined): { rows: UsageRow[]; unpriced: UsageRow[] } {
  const unpriced: UsageRow[] = [];
  const priced = rows.map((row): UsageRow => {
    if (!needsPrice(row)) {
      if (row.cost_usd === null) unpriced.push(row);
      return row;
    }
    if (!registry) throw new Error('priceRows: a row needs a price and no price registry was loaded');
    const result = priceUsage(registry, row);
    if (result.status === 'priced') return withPrice(row, result.costUsd, 'computed', result.priceRef, null);
    // A row without token counts (activity, flat fees) has nothing to price: no reason to record.
    if (result.reason === 'no_tokens') return row;
    const marked = withPrice(row, row.cost_usd, row.cost_source, row.price_ref, result.unpricedReason);
    unpriced.push(marked);
    return marked;
  });
  return { rows: priced, unpriced };
}

/**
 * Whether priceRows looks the row's price up: it has no cost and no reason
 * for having none. Without such a row the registry need not be loaded.
 */
export function needsPrice(row: UsageRow): boolean {
  return row.cost_usd === null && !row.unpriced_reason;
}

/**
 * The row with its price columns set, every column named: a spread of a
 * 20-column row that then adds columns took V8's slow path, ten times the
 * cost of the pricing itself over a cycle's rows.
 */
function withPrice(
  row: UsageRow,
  costUsd: UsageRow['cost_usd'],
  costSource: UsageRow['cost_source'],
  priceRef: UsageRow['price_ref'],
  unpricedReason: UsageRow['unpriced_reason'],
): UsageRow {
  return {
    source_system: row.source_system,
    source_instance: row.source_instance,
    granularity: row.granularity,
    bucket_start: row.bucket_start,
    provider: row.provider,
    model: row.model,
    account: row.account,
    api_key: row.api_key,
    user_id: row.user_id,
    labels: row.labels,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cached_read_tokens: row.cached_read_tokens,
    cached_write_tokens: row.cached_write_tokens,
    cached_write_1h_tokens: row.cached_write_1h_tokens,
    reasoning_tokens: row.reasoning_tokens,
    requests: row.requests,
    cost_usd: costUsd,
    cost_source: costSource,
    measurement_basis: row.measurement_basis,
    price_ref: priceRef,
    unpriced_reason: unpricedReason,
  };
}
