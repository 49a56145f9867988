-- utt migration 0011: what PostgreSQL spends on a large write, cut where
-- nothing depends on it. Measured on a cold Claude Code backfill (15,315
-- hourly rows in four statements and 7.4 MB of source state in one
-- transaction; bench/agent-logs).
--
-- 1. token_usage's conflict key compares its columns in a cheaper order. A
--    B-tree compares an entry column by column, and a column after the first
--    of variable width is found by walking the ones before it. In 0001's
--    order the three columns every row of a source shares (source_system,
--    source_instance, granularity), then bucket_start, then four more that
--    are mostly equal (provider, account, api_key, user_id) came before the
--    two that tell a source's rows of one hour apart (model, labels): most
--    comparisons walked and compared all ten. Now bucket_start follows the
--    source, then model and labels; the columns that are nearly always equal
--    come last, compared only between entries equal in all the rest. The key
--    is the same set of columns, so it refuses exactly the same rows and
--    every ON CONFLICT (…) names it as before; its prefix still serves
--    lookups by source_system and source_instance (an import's probe for an
--    instance) and now also a bucket_start range after them (the ghost-row
--    sweep of a re-collected window). Rebuilt once, here.
--
-- 2. source_state values are stored as json, not jsonb. Nothing queries
--    inside a source's state: the store writes each value whole and reads it
--    whole (loadSourceState), and the adapter parses it. jsonb cost a parse
--    into its binary form on every write and a conversion back to text on
--    every read, for operators nothing uses; json only checks that each value
--    is one JSON value and keeps its text. Values read back are the same JSON
--    values; their text is now kept as written (jsonb normalised whitespace
--    and ordered an object's keys by length, then bytes), so an object's keys
--    come back in the order they were written.
ALTER TABLE {{schema}}.token_usage
  DROP CONSTRAINT token_usage_conflict_key,
  ADD CONSTRAINT token_usage_conflict_key UNIQUE (
    source_system, source_instance, bucket_start, model, labels,
    granularity, provider, account, api_key, user_id
  );

ALTER TABLE {{schema}}.source_state ALTER COLUMN value TYPE json USING value::json;

-- As 0010: lz4 where the server has it, else no compression (PGlite).
DO $compression$
BEGIN
  ALTER TABLE {{schema}}.source_state ALTER COLUMN value SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  ALTER TABLE {{schema}}.source_state ALTER COLUMN value SET STORAGE EXTERNAL;
END
$compression$;
