-- utt migration 0010: the roll-up triggers of 0009 at the cost of the work
-- they do, and the source state stored without pglz.
--
-- Measured on a cold Claude Code backfill (15,315 hourly rows in four
-- statements of 5,000; bench/agent-logs) and on small writes (ten rows a
-- statement, as a gateway or the tracker writes): the triggers took about as
-- long as inserting the rows themselves, and a ten-row INSERT took 6–11 ms
-- where it takes 0.5 ms without them. The causes, each fixed here:
--
-- 1. The trigger functions ran the roll-up statements with EXECUTE: parsed
--    and planned (some sixty expressions, two INSERT … ON CONFLICT) on every
--    write. They are now static SQL, generated below from the same statement
--    texts, which PL/pgSQL prepares once per session: 1–2 ms for ten rows.
--
-- 2. The detail statement joined the changed rows with the kept time zones
--    (a subquery over token_usage_rollup_zones). The planner knows nothing of
--    that small table until someone runs ANALYZE: it expected 1,200 zones, so
--    some six million groups, and sorted every changed row on fifteen keys
--    instead of hashing them. The triggers now run it once per kept zone,
--    the zone a parameter; grouping and the ordered upsert are planned apart
--    (materialised CTEs) and group by hashing whatever the estimate.
--
-- 3. INSERT … ON CONFLICT DO UPDATE fires the UPDATE triggers of every
--    statement, with empty transition tables when no row conflicted (a cold
--    ingest): each still ran both roll-up statements. They now return at
--    once when no row was updated.
--
-- 4. price_source was cut from price_ref with a regular expression on every
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
    WITH delta AS MATERIALIZED (
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
    user_delta AS MATERIALIZED (
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
    ),
    applied_by_user AS (
      INSERT INTO {{schema}}.token_usage_daily_by_user AS by_user
      SELECT * FROM user_delta
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

-- The daily statement of 0009, its sums in a CTE of their own (as the detail
-- statement's): grouping and the ORDER BY of the upsert are then planned
-- apart, and the grouping hashes (see enable_sort below).
CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_statement(changes TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $function$
  SELECT format($sql$
    WITH delta AS MATERIALIZED (
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
    ),
    applied AS (
      INSERT INTO {{schema}}.token_usage_daily AS daily
      SELECT * FROM delta
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

-- The trigger functions run the roll-up statements as static SQL, generated
-- here from the statement texts: PL/pgSQL prepares a static statement once
-- per session and keeps its plan, where EXECUTE parsed and planned the
-- statements (each some sixty expressions and two INSERT … ON CONFLICT) on
-- every write: about 10 ms a statement, so an INSERT of ten rows took 11 ms
-- where it takes 0.5 ms without the triggers. (A function the trigger calls
-- cannot see the transition tables; the trigger function's own statements can.)
--
-- A kept plan was made for the size of the transition table of its first
-- run: a session whose first write was ten rows would sort the next five
-- thousand on every key to group them. enable_sort = off inside these
-- functions makes the planner hash whatever the estimate (PostgreSQL spills a
-- hash table that outgrows work_mem to disk); the ORDER BY that gives every
-- writer one order of row locks still sorts, having no other way.
DO $generate$
DECLARE
  -- The kept zone, one at a time: a parameter, so the plan's estimate is the
  -- transition table's own rows.
  one_zone CONSTANT TEXT := 'SELECT zone_name AS time_zone';
  detail_body CONSTANT TEXT := $body$
DECLARE
  zone_name    TEXT;
  from_day     DATE;
  to_day       DATE;
  emptied_from DATE;
  emptied_to   DATE;
BEGIN
%s  FOR zone_name IN SELECT kept.time_zone FROM {{schema}}.token_usage_rollup_zones AS kept ORDER BY kept.time_zone LOOP
    %s
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
$body$;
  daily_body CONSTANT TEXT := $body$
DECLARE
  emptied_from TIMESTAMPTZ;
  emptied_to   TIMESTAMPTZ;
BEGIN
%s  %s
  INTO emptied_from, emptied_to;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$body$;
  -- INSERT … ON CONFLICT DO UPDATE fires the UPDATE triggers even when no row conflicted.
  nothing_updated CONSTANT TEXT := E'  IF NOT EXISTS (SELECT FROM old_rows) THEN\n    RETURN NULL;\n  END IF;\n';
  inserted CONSTANT TEXT := 'SELECT 1 AS sign, * FROM new_rows';
  updated CONSTANT TEXT := 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows';
  deleted CONSTANT TEXT := 'SELECT -1 AS sign, * FROM old_rows';
BEGIN
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(detail_body, '', {{schema}}.token_usage_daily_detail_statement(inserted, one_zone)));
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_update() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(detail_body, nothing_updated, {{schema}}.token_usage_daily_detail_statement(updated, one_zone)));
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_delete() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(detail_body, '', {{schema}}.token_usage_daily_detail_statement(deleted, one_zone)));
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_on_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(daily_body, '', {{schema}}.token_usage_daily_statement(inserted)));
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_on_update() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(daily_body, nothing_updated, {{schema}}.token_usage_daily_statement(updated)));
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_on_delete() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(daily_body, '', {{schema}}.token_usage_daily_statement(deleted)));
END
$generate$;

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
