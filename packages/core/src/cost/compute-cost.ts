import type { UsageRecord } from '../record/usage-record';
import { formatScaledInteger, toScaledInteger } from './decimal';
import type { TokenPrice } from './token-price';

const PRICE_DECIMALS = 12;
/** Cost digits kept: price decimals plus the six of "per million". */
const COST_DECIMALS = PRICE_DECIMALS + 6;

export type CostResult =
  | { readonly status: 'priced'; readonly costUsd: string }
  | {
      readonly status: 'unpriced';
      readonly reason: 'no_price' | 'missing_rate' | 'no_tokens';
      /** The rates the record needed that the price does not have. */
      readonly missingRates: ReadonlyArray<keyof TokenPrice>;
    };

type CostTokens = Pick<
  UsageRecord,
  'input_tokens' | 'output_tokens' | 'cached_read_tokens' | 'cached_write_tokens' | 'cached_write_1h_tokens'
>;

/**
 * The cost of a record's tokens at a per-million price, exact to the digit.
 * Cache writes are split into the 1-hour part and the rest (5-minute rate);
 * reasoning is inside output. Without a price, or when tokens sit in a bucket
 * the price has no rate for, the result is "unpriced", never 0.
 */
export function computeCost(record: CostTokens, price: TokenPrice | undefined): CostResult {
  const cacheWrite1h = record.cached_write_1h_tokens ?? 0;
  const parts: Array<[keyof TokenPrice, number | null]> = [
    ['input', record.input_tokens],
    ['output', record.output_tokens],
    ['cacheRead', record.cached_read_tokens],
    ['cacheWrite', record.cached_write_tokens === null ? null : record.cached_write_tokens - cacheWrite1h],
    ['cacheWrite1h', record.cached_write_1h_tokens],
  ];
  const known = parts.filter((part): part is [keyof TokenPrice, number] => part[1] !== null);
  if (known.length === 0) return { status: 'unpriced', reason: 'no_tokens', missingRates: [] };
  if (!price) return { status: 'unpriced', reason: 'no_price', missingRates: [] };

  let total = 0n;
  const missingRates: Array<keyof TokenPrice> = [];
  for (const [rate, tokens] of known) {
    if (tokens === 0) continue;
    const perMillion = price[rate];
    if (perMillion === undefined) {
      missingRates.push(rate);
      continue;
    }
    total += BigInt(tokens) * toScaledInteger(perMillion, PRICE_DECIMALS);
  }
  if (missingRates.length > 0) return { status: 'unpriced', reason: 'missing_rate', missingRates };
  // total is in 10^-12 USD per million tokens, i.e. 10^-18 USD.
  return { status: 'priced', costUsd: formatScaledInteger(total, COST_DECIMALS) };
}

