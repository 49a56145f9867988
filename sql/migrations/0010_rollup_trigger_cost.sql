-- utt migration 0010: the roll-up triggers of 0009 at the cost of the work
-- they do, and the source state stored without pglz.
--
-- Measured on a cold Claude Code backfill (15,315 hourly rows in four
-- statements of 5,000; bench/agent-logs), the triggers took about as long
-- as inserting the rows themselves. Three causes, each fixed here:
--
-- 1. The detail statement joined the changed rows with the kept time zones
--    (a subquery over token_usage_rollup_zones). The planner knows nothing of
--    a transition table's size nor, until someone runs ANALYZE, of that small
--    table's: it expected 1,200 zones, so some six million groups, and chose
--    to sort every changed row on fifteen keys (text compared by the
--    collation) instead of hashing them. The triggers now run the statement
--    once per kept zone with the zone as a constant: the estimate is the
--    transition table's own, and the plan hashes (about half the time).
--
-- 2. INSERT … ON CONFLICT DO UPDATE fires the UPDATE triggers of every
--    statement, with empty transition tables when no row conflicted (a cold
--    ingest): each still planned and ran both roll-up statements. They now
--    return at once when no row was updated.
--
-- 3. price_source was cut from price_ref with a regular expression on every
--    changed row; split_part gives the same text (up to the first @, : or ;,
--    '' without one).
--
-- The detail and by-user roll-ups are updated in place by every write that
-- touches a day already there (a gateway's every cycle, a replay). With room
-- left on each page the update is HOT: no new entry in the fifteen-column
-- key. Applies to pages written from now on.
--
-- source_state holds adapters' state as a few thousand values of 1–16 kB
-- (7.4 MB for the Claude Code adapter on the dense bench corpus). pglz
-- compressing them took more than half of writing them (about 100 of 175 ms)
-- to save a quarter of the bytes: lz4 where the server has it, else no
-- compression (PGlite is built without lz4). Applies to values written from
-- now on.
--
-- The results of the triggers are unchanged: the roll-ups stay equal to
-- summing the raw rows (usage-rollup.test.ts checks it through inserts,
-- replacement upserts, updates, deletes and imports).

CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_statement(changes TEXT, zones TEXT) RETURNS TEXT
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
               split_part(split_part(split_part(COALESCE(price_ref, ''), '@', 1), ':', 1), ';', 1) AS price_source,
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


CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_insert() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
DECLARE
  zone         TEXT;
  from_day     DATE;
  to_day       DATE;
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  FOR zone IN SELECT time_zone FROM {{schema}}.token_usage_rollup_zones ORDER BY time_zone LOOP
    EXECUTE {{schema}}.token_usage_daily_detail_statement('SELECT 1 AS sign, * FROM new_rows', format('SELECT %L::text AS time_zone', zone))
      INTO from_day, to_day;
    emptied_from := least(emptied_from, from_day);
    emptied_to := greatest(emptied_to, to_day);
  END LOOP;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_update() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
DECLARE
  zone         TEXT;
  from_day     DATE;
  to_day       DATE;
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  -- INSERT … ON CONFLICT fires the UPDATE triggers even when no row conflicted.
  IF NOT EXISTS (SELECT FROM old_rows) THEN
    RETURN NULL;
  END IF;
  FOR zone IN SELECT time_zone FROM {{schema}}.token_usage_rollup_zones ORDER BY time_zone LOOP
    EXECUTE {{schema}}.token_usage_daily_detail_statement('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows', format('SELECT %L::text AS time_zone', zone))
      INTO from_day, to_day;
    emptied_from := least(emptied_from, from_day);
    emptied_to := greatest(emptied_to, to_day);
  END LOOP;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_delete() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
DECLARE
  zone         TEXT;
  from_day     DATE;
  to_day       DATE;
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
  FOR zone IN SELECT time_zone FROM {{schema}}.token_usage_rollup_zones ORDER BY time_zone LOOP
    EXECUTE {{schema}}.token_usage_daily_detail_statement('SELECT -1 AS sign, * FROM old_rows', format('SELECT %L::text AS time_zone', zone))
      INTO from_day, to_day;
    emptied_from := least(emptied_from, from_day);
    emptied_to := greatest(emptied_to, to_day);
  END LOOP;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_on_update() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
DECLARE
  emptied_from TIMESTAMPTZ;
  emptied_to   TIMESTAMPTZ;
BEGIN
  IF NOT EXISTS (SELECT FROM old_rows) THEN
    RETURN NULL;
  END IF;
  EXECUTE {{schema}}.token_usage_daily_statement('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows') INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$function$;

ALTER TABLE {{schema}}.token_usage_daily_detail SET (fillfactor = 70);
ALTER TABLE {{schema}}.token_usage_daily_by_user SET (fillfactor = 70);
ALTER TABLE {{schema}}.token_usage_daily SET (fillfactor = 70);

DO $compression$
BEGIN
  ALTER TABLE {{schema}}.source_state ALTER COLUMN value SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  ALTER TABLE {{schema}}.source_state ALTER COLUMN value SET STORAGE EXTERNAL;
END
$compression$;
