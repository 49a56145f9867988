-- utt migration 0015: the unpriced rows, found without reading every row.
--
-- `utt verify`, `utt prices check` and `utt doctor` list the rows with tokens
-- and no cost (apps/worker's unpricedModels: cost_usd IS NULL, grouped by
-- provider, model and unpriced_reason, with their rows and tokens). Without an
-- index that listing read the whole of token_usage: 1.3 s on a year of
-- 5,045,760 hourly rows (bench/reports). This partial index holds only the
-- unpriced rows, with every column the listing reads, so PostgreSQL answers it
-- with an index-only scan over those rows alone: a few milliseconds when, as
-- in a real ledger, few rows lack a price.
--
-- A write pays for it only when it writes an unpriced row; a priced row is
-- not in the index (its predicate is false), and `utt reprice` pricing a row
-- removes it from the index's scans.
CREATE INDEX IF NOT EXISTS token_usage_unpriced_idx ON {{schema}}.token_usage (provider, model, unpriced_reason)
  INCLUDE (input_tokens, output_tokens, cached_read_tokens, cached_write_tokens)
  WHERE cost_usd IS NULL;
