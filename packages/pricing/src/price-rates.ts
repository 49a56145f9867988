/** USD per million tokens as a decimal string, or a rate that rises above an input-size threshold. */
export type TokenRate = string | TieredTokenRate;

/**
 * A long-context rate: `base` up to the first tier's `start`; a request whose
 * prompt (input + cache reads + cache writes) is larger than `start` pays the
 * tier's price for every one of its tokens (the whole request moves).
 */
export type TieredTokenRate = {
  readonly base: string;
  readonly tiers: ReadonlyArray<{ readonly start: number; readonly price: string }>;
};

/** The rates of one price version. A rate left out is unknown, never 0. */
export type PriceRates = {
  /** Input not read from or written to the cache. */
  readonly input?: TokenRate;
  /** Output, reasoning included. */
  readonly output?: TokenRate;
  readonly cacheRead?: TokenRate;
  /** Cache writes with the default (5-minute) TTL. */
  readonly cacheWrite?: TokenRate;
  readonly cacheWrite1h?: TokenRate;
  /** USD per request (a fixed per-call fee). */
  readonly perRequest?: string;
  /** USD per web search a source reports. */
  readonly perWebSearch?: string;
};

export const TOKEN_RATE_NAMES = ['input', 'output', 'cacheRead', 'cacheWrite', 'cacheWrite1h'] as const;
export type TokenRateName = (typeof TOKEN_RATE_NAMES)[number];

/** A price in force from a UTC date (null: since the beginning). */
export type PriceVersion = {
  readonly from: string | null;
  readonly rates: PriceRates;
};

/** Where a price came from, highest precedence first. */
export const PRICE_SOURCES = ['config', 'file', 'registry'] as const;
export type PriceSource = (typeof PRICE_SOURCES)[number];
