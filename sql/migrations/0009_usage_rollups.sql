-- utt migration 0009: roll-ups for the dashboard's pages and for `utt report`'s
-- subscription split, kept by the database like token_usage_daily (0005).
--
-- 1. token_usage_daily gains what a page or report needs to keep a flat fee
--    and the usage it covers apart: the flat fees (cost_source 'fixed'), the
--    API-equivalent value of usage a subscription covers (label
--    billing=subscription, not a fee), and the input side of the rows that
--    report cache reads (a cache hit ratio's denominator). Spend is cost minus
--    covered: what was paid, never the covered usage a second time.
--
-- 2. token_usage_daily_detail: one row per local day and every dimension a
--    dashboard page groups or filters by (account, API key, user, the project
--    label, the subscription flag) and the columns Data quality reads (cost
--    source, price source, measurement basis, unpriced reason). It collapses
--    hours and every other label, so a year of hourly gateway rows shrinks by
--    up to 24×. Days are local days of each time zone listed in
--    token_usage_rollup_zones ('UTC' always; `utt serve` adds the reporting
--    zone), so a page in Europe/Berlin reads Berlin days without touching raw
--    rows. Month rows (flat fees) count on the first day of their UTC month in
--    every zone, as usageBreakdown places them.
--
-- 3. token_usage_daily_by_user: the same without the API key and the price
--    columns. Keys usually outnumber users, accounts and projects, so pages
--    that do not show keys read this smaller table. It is summed from the same
--    per-statement delta as the detail table, so it costs the trigger little.
--
-- What the trigger work costs writers is measured by bench/dashboard/write-cost.ts.
-- Both are kept by statement-level AFTER triggers with transition tables, in
-- the same transaction as the change (invariant 12), and backfilled here.

ALTER TABLE {{schema}}.token_usage_daily
  ADD COLUMN cache_reporting_input_tokens BIGINT  NOT NULL DEFAULT 0,
  ADD COLUMN flat_fee_usd                 NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN flat_fee_rows                BIGINT  NOT NULL DEFAULT 0,
  ADD COLUMN covered_usd                  NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN covered_rows                 BIGINT  NOT NULL DEFAULT 0;

COMMENT ON COLUMN {{schema}}.token_usage_daily.cache_reporting_input_tokens IS
  'input + cached_read + cached_write of the rows whose cached_read_tokens is known';
COMMENT ON COLUMN {{schema}}.token_usage_daily.flat_fee_usd IS
  'cost of rows with cost_source fixed (subscription fees); flat_fee_rows counts them';
COMMENT ON COLUMN {{schema}}.token_usage_daily.covered_usd IS
  'API-equivalent cost of usage labelled billing=subscription (not a fee): already paid by a flat fee, not spend';

-- The daily statement of 0005 with the new columns (appended in table order).
CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_statement(changes TEXT) RETURNS TEXT
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
               sum(sign * ((cost_usd IS NULL) <> (cost_source IS NULL))::int) AS cost_without_cost_source,
               sum(CASE WHEN cached_read_tokens IS NOT NULL THEN sign * (COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0)) ELSE 0 END) AS cache_reporting_input_tokens,
               COALESCE(sum(sign * cost_usd) FILTER (WHERE cost_source = 'fixed'), 0) AS flat_fee_usd,
               sum(sign * (cost_usd IS NOT NULL AND COALESCE(cost_source = 'fixed', false))::int) AS flat_fee_rows,
               COALESCE(sum(sign * cost_usd) FILTER (WHERE covered), 0) AS covered_usd,
               sum(sign * (cost_usd IS NOT NULL AND covered)::int) AS covered_rows
        FROM (SELECT changed.*,
                     COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) AS row_tokens,
                     cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) > 0 AS unpriced,
                     cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription' AS covered
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
           OR negative_counters <> 0 OR cost_without_cost_source <> 0 OR cache_reporting_input_tokens <> 0
           OR flat_fee_usd <> 0 OR flat_fee_rows <> 0 OR covered_usd <> 0 OR covered_rows <> 0
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
        cost_without_cost_source = daily.cost_without_cost_source + EXCLUDED.cost_without_cost_source,
        cache_reporting_input_tokens = daily.cache_reporting_input_tokens + EXCLUDED.cache_reporting_input_tokens,
        flat_fee_usd = daily.flat_fee_usd + EXCLUDED.flat_fee_usd,
        flat_fee_rows = daily.flat_fee_rows + EXCLUDED.flat_fee_rows,
        covered_usd = daily.covered_usd + EXCLUDED.covered_usd,
        covered_rows = daily.covered_rows + EXCLUDED.covered_rows
      RETURNING day_start, row_count
    )
    SELECT min(day_start) FILTER (WHERE row_count = 0), max(day_start) FILTER (WHERE row_count = 0) FROM applied
  $sql$, changes)
$function$;
-- The rows already there get the new columns: recount every day.
DO $backfill_daily$
BEGIN
  TRUNCATE {{schema}}.token_usage_daily;
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT 1 AS sign, * FROM {{schema}}.token_usage');
END
$backfill_daily$;

-- ---------------------------------------------------------------------------
-- The time zones token_usage_daily_detail keeps local days for.
-- ---------------------------------------------------------------------------
CREATE TABLE {{schema}}.token_usage_rollup_zones (
  -- An IANA name PostgreSQL knows; adding one backfills its days (UsageStore.addRollupTimeZone).
  time_zone  TEXT        PRIMARY KEY,
  added_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO {{schema}}.token_usage_rollup_zones (time_zone) VALUES ('UTC');

COMMENT ON TABLE {{schema}}.token_usage_rollup_zones IS
  'utt: time zones whose local days token_usage_daily_detail keeps; add one with UsageStore.addRollupTimeZone, which backfills it';

CREATE TABLE {{schema}}.token_usage_daily_detail (
  time_zone             TEXT    NOT NULL,
  -- The local date in time_zone of the rows' bucket_start; month rows: the first day of their UTC month.
  day                   DATE    NOT NULL,
  source_system         TEXT    NOT NULL,
  source_instance       TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  model                 TEXT    NOT NULL,
  account               TEXT    NOT NULL,
  api_key               TEXT    NOT NULL,
  user_id               TEXT    NOT NULL,
  -- labels->>'project', '' without it.
  project               TEXT    NOT NULL,
  -- labels->>'billing' = 'subscription': usage a flat fee pays for (unless the row is the fee itself).
  subscription_billing  BOOLEAN NOT NULL,
  -- '' where token_usage has NULL (unpriced rows; no reason recorded).
  cost_source           TEXT    NOT NULL,
  -- price_ref up to its first @, : or ; ('genai-prices', 'override', …).
  price_source          TEXT    NOT NULL,
  measurement_basis     TEXT    NOT NULL,
  unpriced_reason       TEXT    NOT NULL,
  row_count             BIGINT  NOT NULL,

  -- As in token_usage_daily: the sum of the known values and how many rows knew it.
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
  cache_reporting_input_tokens BIGINT NOT NULL,
  cost_usd                     NUMERIC NOT NULL,
  cost_rows                    BIGINT NOT NULL,
  unpriced_rows                BIGINT NOT NULL,
  unpriced_tokens              BIGINT NOT NULL,

  PRIMARY KEY (time_zone, day, source_system, source_instance, provider, model, account, api_key, user_id, project,
               subscription_billing, cost_source, price_source, measurement_basis, unpriced_reason)
);

COMMENT ON TABLE {{schema}}.token_usage_daily_detail IS
  'utt: per local day (one set per time zone in token_usage_rollup_zones) sums of token_usage by every dimension but hour and labels other than project and billing; kept by triggers; read it, never write it';

-- token_usage_daily_detail without the API key and the price columns: per
-- user, account, machine and project. API keys usually outnumber everything
-- else, so the pages that do not show them read this smaller table (a year by
-- user reads a few rows per user and day instead of one per key).
CREATE TABLE {{schema}}.token_usage_daily_by_user (
  time_zone             TEXT    NOT NULL,
  day                   DATE    NOT NULL,
  source_system         TEXT    NOT NULL,
  source_instance       TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  model                 TEXT    NOT NULL,
  account               TEXT    NOT NULL,
  user_id               TEXT    NOT NULL,
  project               TEXT    NOT NULL,
  subscription_billing  BOOLEAN NOT NULL,
  -- cost_source = 'fixed': a subscription's fee.
  flat_fee              BOOLEAN NOT NULL,
  row_count                    BIGINT NOT NULL,
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
  cache_reporting_input_tokens BIGINT NOT NULL,
  cost_usd                     NUMERIC NOT NULL,
  cost_rows                    BIGINT NOT NULL,
  unpriced_rows                BIGINT NOT NULL,
  unpriced_tokens              BIGINT NOT NULL,

  PRIMARY KEY (time_zone, day, source_system, source_instance, provider, model, account, user_id, project, subscription_billing, flat_fee)
);

COMMENT ON TABLE {{schema}}.token_usage_daily_by_user IS
  'utt: token_usage_daily_detail summed over api_key and the price columns; kept by the same triggers; read it, never write it';

-- As token_usage_daily_statement: SQL text that adds the contribution of
-- `changes` (sign, token_usage row) for each zone `zones` selects to
-- token_usage_daily_detail and, summed once more from the same delta, to
-- token_usage_daily_by_user, and returns the first and last day it emptied.
CREATE FUNCTION {{schema}}.token_usage_daily_detail_statement(changes TEXT, zones TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $function$
  SELECT format($sql$
    WITH delta AS (
        SELECT zone.time_zone,
               CASE WHEN granularity = 'month' THEN (bucket_start AT TIME ZONE 'UTC')::date
                    ELSE (bucket_start AT TIME ZONE zone.time_zone)::date END AS day,
               source_system, source_instance, provider, model, account, api_key, user_id,
               COALESCE(labels->>'project', '') AS project,
               COALESCE(labels->>'billing', '') = 'subscription' AS subscription_billing,
               COALESCE(cost_source, '') AS cost_source,
               COALESCE(substring(price_ref from '^[^@:;]+'), '') AS price_source,
               measurement_basis,
               COALESCE(unpriced_reason, '') AS unpriced_reason,
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
               sum(CASE WHEN cached_read_tokens IS NOT NULL THEN sign * (COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0)) ELSE 0 END) AS cache_reporting_input_tokens,
               COALESCE(sum(sign * cost_usd), 0) AS cost_usd,
               sum(sign * (cost_usd IS NOT NULL)::int) AS cost_rows,
               sum(sign * unpriced::int) AS unpriced_rows,
               sum(CASE WHEN unpriced THEN sign * row_tokens ELSE 0 END) AS unpriced_tokens
        FROM (SELECT changed.*,
                     COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) AS row_tokens,
                     cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) > 0 AS unpriced
              FROM (%s) AS changed) AS change
        CROSS JOIN (%s) AS zone
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    ),
    applied AS (
      INSERT INTO {{schema}}.token_usage_daily_detail AS detail
      SELECT * FROM delta
      -- A replay that changes no total touches no row.
      WHERE row_count <> 0 OR input_tokens <> 0 OR input_tokens_rows <> 0 OR output_tokens <> 0
           OR output_tokens_rows <> 0 OR cached_read_tokens <> 0 OR cached_read_tokens_rows <> 0 OR cached_write_tokens <> 0
           OR cached_write_tokens_rows <> 0 OR cached_write_1h_tokens <> 0 OR cached_write_1h_tokens_rows <> 0 OR reasoning_tokens <> 0
           OR reasoning_tokens_rows <> 0 OR requests <> 0 OR requests_rows <> 0 OR cache_reporting_input_tokens <> 0
           OR cost_usd <> 0 OR cost_rows <> 0 OR unpriced_rows <> 0 OR unpriced_tokens <> 0
      -- One order for every writer, so two transactions touching the same days cannot deadlock here.
      ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
      ON CONFLICT (time_zone, day, source_system, source_instance, provider, model, account, api_key, user_id, project,
                   subscription_billing, cost_source, price_source, measurement_basis, unpriced_reason) DO UPDATE SET
        row_count = detail.row_count + EXCLUDED.row_count,
        input_tokens = detail.input_tokens + EXCLUDED.input_tokens,
        input_tokens_rows = detail.input_tokens_rows + EXCLUDED.input_tokens_rows,
        output_tokens = detail.output_tokens + EXCLUDED.output_tokens,
        output_tokens_rows = detail.output_tokens_rows + EXCLUDED.output_tokens_rows,
        cached_read_tokens = detail.cached_read_tokens + EXCLUDED.cached_read_tokens,
        cached_read_tokens_rows = detail.cached_read_tokens_rows + EXCLUDED.cached_read_tokens_rows,
        cached_write_tokens = detail.cached_write_tokens + EXCLUDED.cached_write_tokens,
        cached_write_tokens_rows = detail.cached_write_tokens_rows + EXCLUDED.cached_write_tokens_rows,
        cached_write_1h_tokens = detail.cached_write_1h_tokens + EXCLUDED.cached_write_1h_tokens,
        cached_write_1h_tokens_rows = detail.cached_write_1h_tokens_rows + EXCLUDED.cached_write_1h_tokens_rows,
        reasoning_tokens = detail.reasoning_tokens + EXCLUDED.reasoning_tokens,
        reasoning_tokens_rows = detail.reasoning_tokens_rows + EXCLUDED.reasoning_tokens_rows,
        requests = detail.requests + EXCLUDED.requests,
        requests_rows = detail.requests_rows + EXCLUDED.requests_rows,
        cache_reporting_input_tokens = detail.cache_reporting_input_tokens + EXCLUDED.cache_reporting_input_tokens,
        cost_usd = detail.cost_usd + EXCLUDED.cost_usd,
        cost_rows = detail.cost_rows + EXCLUDED.cost_rows,
        unpriced_rows = detail.unpriced_rows + EXCLUDED.unpriced_rows,
        unpriced_tokens = detail.unpriced_tokens + EXCLUDED.unpriced_tokens
      RETURNING day, row_count
    ),
    applied_by_user AS (
      INSERT INTO {{schema}}.token_usage_daily_by_user AS by_user
      SELECT * FROM (
        SELECT time_zone, day, source_system, source_instance, provider, model, account, user_id, project,
               subscription_billing, cost_source = 'fixed' AS flat_fee,
               sum(row_count) AS row_count,
               sum(input_tokens) AS input_tokens,
               sum(input_tokens_rows) AS input_tokens_rows,
               sum(output_tokens) AS output_tokens,
               sum(output_tokens_rows) AS output_tokens_rows,
               sum(cached_read_tokens) AS cached_read_tokens,
               sum(cached_read_tokens_rows) AS cached_read_tokens_rows,
               sum(cached_write_tokens) AS cached_write_tokens,
               sum(cached_write_tokens_rows) AS cached_write_tokens_rows,
               sum(cached_write_1h_tokens) AS cached_write_1h_tokens,
               sum(cached_write_1h_tokens_rows) AS cached_write_1h_tokens_rows,
               sum(reasoning_tokens) AS reasoning_tokens,
               sum(reasoning_tokens_rows) AS reasoning_tokens_rows,
               sum(requests) AS requests,
               sum(requests_rows) AS requests_rows,
               sum(cache_reporting_input_tokens) AS cache_reporting_input_tokens,
               sum(cost_usd) AS cost_usd,
               sum(cost_rows) AS cost_rows,
               sum(unpriced_rows) AS unpriced_rows,
               sum(unpriced_tokens) AS unpriced_tokens
        FROM delta
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
      ) AS user_delta
      WHERE row_count <> 0 OR input_tokens <> 0 OR input_tokens_rows <> 0 OR output_tokens <> 0 OR output_tokens_rows <> 0 OR cached_read_tokens <> 0 OR cached_read_tokens_rows <> 0 OR cached_write_tokens <> 0 OR cached_write_tokens_rows <> 0 OR cached_write_1h_tokens <> 0 OR cached_write_1h_tokens_rows <> 0 OR reasoning_tokens <> 0 OR reasoning_tokens_rows <> 0 OR requests <> 0 OR requests_rows <> 0 OR cache_reporting_input_tokens <> 0 OR cost_usd <> 0 OR cost_rows <> 0 OR unpriced_rows <> 0 OR unpriced_tokens <> 0
      ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
      ON CONFLICT (time_zone, day, source_system, source_instance, provider, model, account, user_id, project, subscription_billing, flat_fee) DO UPDATE SET
        row_count = by_user.row_count + EXCLUDED.row_count,
        input_tokens = by_user.input_tokens + EXCLUDED.input_tokens,
        input_tokens_rows = by_user.input_tokens_rows + EXCLUDED.input_tokens_rows,
        output_tokens = by_user.output_tokens + EXCLUDED.output_tokens,
        output_tokens_rows = by_user.output_tokens_rows + EXCLUDED.output_tokens_rows,
        cached_read_tokens = by_user.cached_read_tokens + EXCLUDED.cached_read_tokens,
        cached_read_tokens_rows = by_user.cached_read_tokens_rows + EXCLUDED.cached_read_tokens_rows,
        cached_write_tokens = by_user.cached_write_tokens + EXCLUDED.cached_write_tokens,
        cached_write_tokens_rows = by_user.cached_write_tokens_rows + EXCLUDED.cached_write_tokens_rows,
        cached_write_1h_tokens = by_user.cached_write_1h_tokens + EXCLUDED.cached_write_1h_tokens,
        cached_write_1h_tokens_rows = by_user.cached_write_1h_tokens_rows + EXCLUDED.cached_write_1h_tokens_rows,
        reasoning_tokens = by_user.reasoning_tokens + EXCLUDED.reasoning_tokens,
        reasoning_tokens_rows = by_user.reasoning_tokens_rows + EXCLUDED.reasoning_tokens_rows,
        requests = by_user.requests + EXCLUDED.requests,
        requests_rows = by_user.requests_rows + EXCLUDED.requests_rows,
        cache_reporting_input_tokens = by_user.cache_reporting_input_tokens + EXCLUDED.cache_reporting_input_tokens,
        cost_usd = by_user.cost_usd + EXCLUDED.cost_usd,
        cost_rows = by_user.cost_rows + EXCLUDED.cost_rows,
        unpriced_rows = by_user.unpriced_rows + EXCLUDED.unpriced_rows,
        unpriced_tokens = by_user.unpriced_tokens + EXCLUDED.unpriced_tokens
      RETURNING day, row_count
    )
    SELECT min(day) FILTER (WHERE row_count = 0), max(day) FILTER (WHERE row_count = 0)
    FROM (SELECT day, row_count FROM applied UNION ALL SELECT day, row_count FROM applied_by_user) AS touched
  $sql$, changes, zones)
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_detail_apply(changes TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $function$
  SELECT {{schema}}.token_usage_daily_detail_statement(changes, 'SELECT time_zone FROM {{schema}}.token_usage_rollup_zones')
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_detail_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_detail_apply('SELECT 1 AS sign, * FROM new_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_detail_on_update() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_detail_apply('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_detail_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  EXECUTE {{schema}}.token_usage_daily_detail_apply('SELECT -1 AS sign, * FROM old_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_daily_detail_on_truncate() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
  TRUNCATE {{schema}}.token_usage_daily_detail, {{schema}}.token_usage_daily_by_user;
  RETURN NULL;
END
$function$;

CREATE TRIGGER token_usage_daily_detail_insert AFTER INSERT ON {{schema}}.token_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_detail_on_insert();
CREATE TRIGGER token_usage_daily_detail_update AFTER UPDATE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_detail_on_update();
CREATE TRIGGER token_usage_daily_detail_delete AFTER DELETE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_detail_on_delete();
CREATE TRIGGER token_usage_daily_detail_truncate AFTER TRUNCATE ON {{schema}}.token_usage
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_daily_detail_on_truncate();

-- No JIT inside the roll-up triggers. The planner knows nothing of a
-- transition table's size, and the statements sum some forty expressions, so
-- it estimated a cost past jit_above_cost and compiled them on every write:
-- about a second per statement, where the work itself takes milliseconds (a
-- worker cycle of 15,315 rows went from 4.7 s to 0.95 s of write).
ALTER FUNCTION {{schema}}.token_usage_daily_on_insert() SET jit = off;
ALTER FUNCTION {{schema}}.token_usage_daily_on_update() SET jit = off;
ALTER FUNCTION {{schema}}.token_usage_daily_on_delete() SET jit = off;
ALTER FUNCTION {{schema}}.token_usage_daily_detail_on_insert() SET jit = off;
ALTER FUNCTION {{schema}}.token_usage_daily_detail_on_update() SET jit = off;
ALTER FUNCTION {{schema}}.token_usage_daily_detail_on_delete() SET jit = off;

-- The rows already there, in UTC days.
DO $backfill_detail$
BEGIN
  EXECUTE {{schema}}.token_usage_daily_detail_apply('SELECT 1 AS sign, * FROM {{schema}}.token_usage');
END
$backfill_detail$;
