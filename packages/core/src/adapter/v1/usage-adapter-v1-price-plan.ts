/**
 * Token counts summed over requests that were quoted the same plan, one number
 * per priced bucket (0 where no request knew it). Cache writes are split by
 * TTL: `cached_write_5m_tokens` is a record's cached_write_tokens minus its
 * cached_write_1h_tokens (0 where cached_write_tokens is unknown).
 */
export type UsageAdapterV1PlanUsage = {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cached_read_tokens: number;
  readonly cached_write_5m_tokens: number;
  readonly cached_write_1h_tokens: number;
  readonly requests: number;
  readonly web_searches: number;
};

/**
 * The rates a pricer chose for one request once its model, price version,
 * long-context tier and service tier are known. The cost is linear in the
 * tokens from there, so requests quoted the same plan may have their tokens
 * summed first and be priced once, to exactly the sum of their own costs.
 * A pricer hands out one object per distinct plan, so plans can be grouped by
 * identity.
 */
export type UsageAdapterV1PricePlan = {
  /** The price_ref of every request quoted this plan. */
  readonly priceRef: string;
  /** The scale of costUnits: one unit is 10^-costDecimals USD. */
  readonly costDecimals: number;
  /** The exact cost of `usage` at these rates, in units of 10^-costDecimals USD. */
  costUnits(usage: UsageAdapterV1PlanUsage): bigint;
};

/** What `quote` found for one request: its plan, or why it has no cost (as `price` would say). */
export type UsageAdapterV1PriceQuote =
  | { readonly status: 'priced'; readonly plan: UsageAdapterV1PricePlan }
  | { readonly status: 'unpriced'; readonly unpricedReason: string };
