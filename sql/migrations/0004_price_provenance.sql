-- utt migration 0004: which price a computed cost used, and why a row is unpriced.
--
-- A computed cost_usd is only auditable if the row says which price produced
-- it: price_ref holds the source and its version, the price key and the date
-- the price took effect, plus any modifier, for example
--   genai-prices@0.1.8:anthropic/claude-sonnet-4-5@base;tier>200000
--   config:openai/gpt-4o@base;service_tier=batchx0.5
-- A row with tokens but no cost is "unpriced", a state and never $0:
-- unpriced_reason says why (no_price, missing_rate:cacheWrite1h,
-- service_tier:priority, time_of_day:…). A row without token counts has none.
--
-- Stored costs never change on their own: the upsert keeps a 'computed' cost
-- and its price_ref when a re-collected row carries the same token counts, so
-- a newer registry reprices history only through `utt reprice`.

ALTER TABLE {{schema}}.token_usage
  ADD COLUMN price_ref        TEXT NULL,
  ADD COLUMN unpriced_reason  TEXT NULL;

-- A reason only on a row without a cost, a price_ref only on a row with one.
ALTER TABLE {{schema}}.token_usage
  ADD CONSTRAINT token_usage_unpriced_reason_check CHECK (unpriced_reason IS NULL OR cost_usd IS NULL),
  ADD CONSTRAINT token_usage_price_ref_check CHECK (price_ref IS NULL OR cost_usd IS NOT NULL);

COMMENT ON COLUMN {{schema}}.token_usage.price_ref IS
  'utt: the price behind a computed cost_usd: source@version:provider/model@effective-date[;modifiers]';
COMMENT ON COLUMN {{schema}}.token_usage.unpriced_reason IS
  'utt: why cost_usd is NULL on a row with tokens (unpriced is never $0)';
