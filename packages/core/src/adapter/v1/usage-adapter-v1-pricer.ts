import type { Granularity } from '../../time/granularity';
import type { UsageAdapterV1PriceQuote } from './usage-adapter-v1-price-plan';

/** One record (or one request of it) to price; token columns follow the record's non-overlapping semantics. */
export type UsageAdapterV1PriceInput = {
  readonly provider: string;
  readonly model: string;
  readonly bucket_start: Date;
  readonly granularity?: Granularity;
  readonly labels?: Readonly<Record<string, string>>;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly cached_read_tokens: number | null;
  readonly cached_write_tokens: number | null;
  readonly cached_write_1h_tokens: number | null;
  readonly requests?: number | null;
  /** Web searches the source reports for this usage, priced per search where the price has a rate. */
  readonly web_searches?: number | null;
};

export type UsageAdapterV1PriceResult =
  | { readonly status: 'priced'; readonly costUsd: string; readonly priceRef: string }
  | { readonly status: 'unpriced'; readonly unpricedReason: string };

/**
 * Prices usage with the worker's price registry. An adapter that reads
 * per-request data prices each request with it before summing into buckets,
 * so per-request rules (long-context tiers) apply. Absent where no registry
 * is configured: the worker then prices the summed rows itself.
 */
export type UsageAdapterV1Pricer = {
  readonly specificationVersion: 'v1';
  price(input: UsageAdapterV1PriceInput): UsageAdapterV1PriceResult;
  /**
   * The same decision as `price` for one request, without the arithmetic: the
   * plan it is priced with, or why it is unpriced. A reader of many requests
   * sums the tokens of the requests of a bucket per plan and prices each sum
   * once (`plan.costUnits`), which equals pricing each request and summing.
   * Optional: pricers written before it may lack it.
   */
  quote?(input: UsageAdapterV1PriceInput): UsageAdapterV1PriceQuote;
};
