-- utt migration 0005: token_usage_daily, a roll-up the database keeps equal to token_usage.
--
-- A year of hourly rows is millions of rows; reports, reconciliation and the
-- smoke checks read this table instead: one row per UTC day, granularity,
-- source_system, source_instance, provider and model, holding sums and counts
-- from which every report total is exact (NULL apart from 0 included).
--
-- Who keeps it: the database, not the writers. Statement-level AFTER triggers
-- with transition tables on token_usage add what each INSERT, UPDATE (and
-- INSERT … ON CONFLICT DO UPDATE, which fires both), DELETE or COPY changed, in
-- the same transaction as the change (invariant 12). So every writer — the
-- worker, `utt import`, the tracker, a DBA's hand-written UPDATE — keeps it
-- right without knowing it exists. TRUNCATE empties it.
--
-- A query over a range that does not start and end on UTC midnight reads the
-- whole days here and the partial days from token_usage (see report.ts and
-- reconcile.sql): the totals are those of the raw rows, exactly.

CREATE TABLE {{schema}}.token_usage_daily (
  -- UTC midnight of the rows' bucket_start (a month row counts on its first day).
  day_start        TIMESTAMPTZ NOT NULL,
  granularity      TEXT        NOT NULL,
  source_system    TEXT        NOT NULL,
  source_instance  TEXT        NOT NULL,
  provider         TEXT        NOT NULL,
  model            TEXT        NOT NULL,
  row_count        BIGINT      NOT NULL,

  -- For each counter: the sum of the known values and how many rows knew it.
  -- The report's total is NULL when no row knew it (invariant 2), else the sum.
  input_tokens                 BIGINT NOT NULL,
  input_tokens_rows            BIGINT NOT NULL,
  output_tokens                BIGINT NOT NULL,
  output_tokens_rows           BIGINT NOT NULL,
  cached_read_tokens           BIGINT NOT NULL,
  cached_read_tokens_rows      BIGINT NOT NULL,
  cached_write_tokens          BIGINT NOT NULL,
  cached_write_tokens_rows     BIGINT NOT NULL,
  cached_write_1h_tokens       BIGINT NOT NULL,
  cached_write_1h_tokens_rows  BIGINT NOT NULL,
  reasoning_tokens             BIGINT NOT NULL,
  reasoning_tokens_rows        BIGINT NOT NULL,
  requests                     BIGINT NOT NULL,
  requests_rows                BIGINT NOT NULL,

  -- Money stays NUMERIC: sums are exact.
  cost_usd         NUMERIC NOT NULL,
  cost_rows        BIGINT  NOT NULL,
  -- Rows with tokens but no cost, and their input + cached + output tokens.
  unpriced_rows    BIGINT  NOT NULL,
  unpriced_tokens  BIGINT  NOT NULL,

  -- What verification.sql checks, counted here so `utt verify` reads no raw row.
  cached_read_zero_rows              BIGINT NOT NULL,
  cached_write_zero_rows             BIGINT NOT NULL,
  cached_write_any_rows              BIGINT NOT NULL,
  cached_write_1h_over_cached_write  BIGINT NOT NULL,
  reasoning_over_output              BIGINT NOT NULL,
  negative_counters                  BIGINT NOT NULL,
  cost_without_cost_source           BIGINT NOT NULL,

  PRIMARY KEY (day_start, granularity, source_system, source_instance, provider, model)
);

COMMENT ON TABLE {{schema}}.token_usage_daily IS
  'utt: daily sums of token_usage kept by triggers in the same transaction; read it for reports, never write it';

-- The statement that adds the contribution of a set of token_usage rows, +1
-- or -1 each, per daily key, and returns the first and last day it emptied.
-- `changes` is SQL text selecting (sign, token_usage row) from the trigger's
-- transition tables. Only the trigger function itself can see those tables
-- (not a function it calls), so this returns the text and the trigger runs it.
CREATE FUNCTION {{schema}}.token_usage_daily_statement(changes TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $function$
  SELECT format($sql$
    WITH applied AS (
      INSERT INTO {{schema}}.token_usage_daily AS daily
      SELECT * FROM (
        SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day_start,
               granularity, source_system, source_instance, provider, model,
               sum(sign) AS row_count,
               COALESCE(sum(sign * input_tokens), 0) AS input_tokens,
               sum(sign * (input_tokens IS NOT NULL)::int) AS input_tokens_rows,
               COALESCE(sum(sign * output_tokens), 0) AS output_tokens,
               sum(sign * (output_tokens IS NOT NULL)::int) AS output_tokens_rows,
               COALESCE(sum(sign * cached_read_tokens), 0) AS cached_read_tokens,
               sum(sign * (cached_read_tokens IS NOT NULL)::int) AS cached_read_tokens_rows,
               COALESCE(sum(sign * cached_write_tokens), 0) AS cached_write_tokens,
               sum(sign * (cached_write_tokens IS NOT NULL)::int) AS cached_write_tokens_rows,
               COALESCE(sum(sign * cached_write_1h_tokens), 0) AS cached_write_1h_tokens,
               sum(sign * (cached_write_1h_tokens IS NOT NULL)::int) AS cached_write_1h_tokens_rows,
               COALESCE(sum(sign * reasoning_tokens), 0) AS reasoning_tokens,
               sum(sign * (reasoning_tokens IS NOT NULL)::int) AS reasoning_tokens_rows,
               COALESCE(sum(sign * requests), 0) AS requests,
               sum(sign * (requests IS NOT NULL)::int) AS requests_rows,
               COALESCE(sum(sign * cost_usd), 0) AS cost_usd,
               sum(sign * (cost_usd IS NOT NULL)::int) AS cost_rows,
               sum(sign * unpriced::int) AS unpriced_rows,
               sum(CASE WHEN unpriced THEN sign * row_tokens ELSE 0 END) AS unpriced_tokens,
               sum(sign * COALESCE(cached_read_tokens = 0, false)::int) AS cached_read_zero_rows,
               sum(sign * COALESCE(cached_write_tokens = 0, false)::int) AS cached_write_zero_rows,
               sum(sign * (cached_write_tokens IS NOT NULL OR cached_write_1h_tokens IS NOT NULL)::int) AS cached_write_any_rows,
               sum(sign * COALESCE(cached_write_1h_tokens > cached_write_tokens, false)::int) AS cached_write_1h_over_cached_write,
               sum(sign * COALESCE(reasoning_tokens > output_tokens, false)::int) AS reasoning_over_output,
               sum(sign * COALESCE(input_tokens < 0 OR output_tokens < 0 OR cached_read_tokens < 0 OR cached_write_tokens < 0
                                   OR cached_write_1h_tokens < 0 OR reasoning_tokens < 0 OR requests < 0, false)::int) AS negative_counters,
               sum(sign * ((cost_usd IS NULL) <> (cost_source IS NULL))::int) AS cost_without_cost_source
        FROM (SELECT changed.*,
                     COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) AS row_tokens,
                     cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) > 0 AS unpriced
              FROM (%s) AS changed) AS change
        GROUP BY 1, 2, 3, 4, 5, 6
      ) AS delta
      -- A replay that changes no total (the worker re-collects its settle window every cycle) touches no daily row.
      WHERE row_count <> 0 OR input_tokens <> 0 OR input_tokens_rows <> 0 OR output_tokens <> 0
           OR output_tokens_rows <> 0 OR cached_read_tokens <> 0 OR cached_read_tokens_rows <> 0 OR cached_write_tokens <> 0
           OR cached_write_tokens_rows <> 0 OR cached_write_1h_tokens <> 0 OR cached_write_1h_tokens_rows <> 0 OR reasoning_tokens <> 0
           OR reasoning_tokens_rows <> 0 OR requests <> 0 OR requests_rows <> 0 OR cost_usd <> 0
           OR cost_rows <> 0 OR unpriced_rows <> 0 OR unpriced_tokens <> 0 OR cached_read_zero_rows <> 0
           OR cached_write_zero_rows <> 0 OR cached_write_any_rows <> 0 OR cached_write_1h_over_cached_write <> 0 OR reasoning_over_output <> 0
           OR negative_counters <> 0 OR cost_without_cost_source <> 0
      -- One order for every writer, so two transactions touching the same days cannot deadlock here.
      ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (day_start, granularity, source_system, source_instance, provider, model) DO UPDATE SET
        row_count = daily.row_count + EXCLUDED.row_count,
        input_tokens = daily.input_tokens + EXCLUDED.input_tokens,
        input_tokens_rows = daily.input_tokens_rows + EXCLUDED.input_tokens_rows,
        output_tokens = daily.output_tokens + EXCLUDED.output_tokens,
        output_tokens_rows = daily.output_tokens_rows + EXCLUDED.output_tokens_rows,
        cached_read_tokens = daily.cached_read_tokens + EXCLUDED.cached_read_tokens,
        cached_read_tokens_rows = daily.cached_read_tokens_rows + EXCLUDED.cached_read_tokens_rows,
        cached_write_tokens = daily.cached_write_tokens + EXCLUDED.cached_write_tokens,
        cached_write_tokens_rows = daily.cached_write_tokens_rows + EXCLUDED.cached_write_tokens_rows,
        cached_write_1h_tokens = daily.cached_write_1h_tokens + EXCLUDED.cached_write_1h_tokens,
        cached_write_1h_tokens_rows = daily.cached_write_1h_tokens_rows + EXCLUDED.cached_write_1h_tokens_rows,
        reasoning_tokens = daily.reasoning_tokens + EXCLUDED.reasoning_tokens,
        reasoning_tokens_rows = daily.reasoning_tokens_rows + EXCLUDED.reasoning_tokens_rows,
        requests = daily.requests + EXCLUDED.requests,
        requests_rows = daily.requests_rows + EXCLUDED.requests_rows,
        cost_usd = daily.cost_usd + EXCLUDED.cost_usd,
        cost_rows = daily.cost_rows + EXCLUDED.cost_rows,
        unpriced_rows = daily.unpriced_rows + EXCLUDED.unpriced_rows,
        unpriced_tokens = daily.unpriced_tokens + EXCLUDED.unpriced_tokens,
        cached_read_zero_rows = daily.cached_read_zero_rows + EXCLUDED.cached_read_zero_rows,
        cached_write_zero_rows = daily.cached_write_zero_rows + EXCLUDED.cached_write_zero_rows,
        cached_write_any_rows = daily.cached_write_any_rows + EXCLUDED.cached_write_any_rows,
        cached_write_1h_over_cached_write = daily.cached_write_1h_over_cached_write + EXCLUDED.cached_write_1h_over_cached_write,
        reasoning_over_output = daily.reasoning_over_output + EXCLUDED.reasoning_over_output,
        negative_counters = daily.negative_counters + EXCLUDED.negative_counters,
        cost_without_cost_source = daily.cost_without_cost_source + EXCLUDED.cost_without_cost_source
      RETURNING day_start, row_count
    )
    SELECT min(day_start) FILTER (WHERE row_count = 0), max(day_start) FILTER (WHERE row_count = 0) FROM applied
  $sql$, changes)
$function$;

-- Each trigger function runs the statement, then removes the keys left with
-- no rows, as if they had never been written.

CREATE FUNCTION {{schema}}.token_usage_daily_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from TIMESTAMPTZ;
  emptied_to   TIMESTAMPTZ;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT 1 AS sign, * FROM new_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_on_update() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from TIMESTAMPTZ;
  emptied_to   TIMESTAMPTZ;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from TIMESTAMPTZ;
  emptied_to   TIMESTAMPTZ;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT -1 AS sign, * FROM old_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_on_truncate() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
  TRUNCATE {{schema}}.token_usage_daily;
  RETURN NULL;
END
$function$;

-- PostgreSQL allows transition tables on a trigger for one event only: four triggers.
CREATE TRIGGER token_usage_daily_insert AFTER INSERT ON {{schema}}.token_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_on_insert();
CREATE TRIGGER token_usage_daily_update AFTER UPDATE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_on_update();
CREATE TRIGGER token_usage_daily_delete AFTER DELETE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_on_delete();
CREATE TRIGGER token_usage_daily_truncate AFTER TRUNCATE ON {{schema}}.token_usage
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_on_truncate();

-- Replacement upserts rewrite the same rows every cycle (the open bucket and
-- the settle window) and change no indexed column: with room left on each page
-- PostgreSQL updates them in place (HOT) instead of adding an entry to every
-- index, the ten-column conflict key included. Applies to pages written from now on.
ALTER TABLE {{schema}}.token_usage SET (fillfactor = 90);

-- The rows already there.
DO $backfill$
BEGIN
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT 1 AS sign, * FROM {{schema}}.token_usage');
END
$backfill$;
