/**
 * USD per million tokens for each token bucket. A rate left out is unknown:
 * a record that has tokens in that bucket cannot be priced (it is not priced
 * as if the rate were 0).
 */
export type TokenPrice = {
  /** Input not read from or written to the cache. */
  readonly input?: number | string;
  /** Output, reasoning included. */
  readonly output?: number | string;
  readonly cacheRead?: number | string;
  /** Cache writes with the default (5-minute) TTL. */
  readonly cacheWrite?: number | string;
  /** Cache writes with a 1-hour TTL. */
  readonly cacheWrite1h?: number | string;
};

/** Prices keyed `provider/model` (preferred) or bare `model`. */
export type PriceTable = Readonly<Record<string, TokenPrice>>;

export type PriceMatch = {
  readonly key: string;
  readonly strategy: 'provider_qualified' | 'model_only';
  readonly price: TokenPrice;
};

/**
 * Finds a price: a provider-qualified key wins over a bare model key; keys
 * compare case-insensitively.
 */
export function findPrice(table: PriceTable, provider: string, model: string): PriceMatch | undefined {
  const lowered = new Map(Object.entries(table).map(([key, price]) => [key.toLowerCase(), { key, price }]));
  const qualified = lowered.get(`${provider}/${model}`.toLowerCase());
  if (qualified) return { key: qualified.key, strategy: 'provider_qualified', price: qualified.price };
  const bare = lowered.get(model.toLowerCase());
  if (bare) return { key: bare.key, strategy: 'model_only', price: bare.price };
  return undefined;
}
