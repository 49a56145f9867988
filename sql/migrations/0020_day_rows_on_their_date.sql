-- utt migration 0020: a provider's UTC day rows keep their calendar date in
-- the local days of every kept time zone, as budgets count them.
--
-- token_usage_daily_detail and token_usage_daily_by_user (0009) put every row
-- that is not a month row on the local date of its bucket_start. A row of
-- granularity 'day' is a UTC day a provider bills by (OpenAI's and
-- Anthropic's usage reports, Copilot, a daily export imported with
-- `utt import`): its bucket_start is UTC midnight, which is the evening before
-- anywhere west of UTC, so a dashboard in America/Los_Angeles showed the row
-- of the 15th on the 14th and counted the row of 1 November in October,
-- while budgets (readSpend's calendar periods) count it on the 15th and in
-- November. Now hourly rows still count by their local start, and day rows,
-- like month rows, by their UTC calendar date. UTC's days do not change.
--
-- 1. The day rows are taken out of the non-UTC zones' roll-up rows by the
--    statement as it was (0010's), with a sign of -1.
-- 2. The statement the detail triggers and the retention recipe run is
--    replaced (0010's, with that one change), and the three detail trigger
--    functions generated from it by 0010 and 0012 get the same change in
--    their text.
-- 3. The day rows are added back by the new statement, and the roll-up rows
--    they emptied are deleted. Only day rows move: this reads token_usage
--    once per kept zone but groups only its day rows, however many hourly
--    rows it holds.

DO $take_out$
DECLARE
  zone_name TEXT;
BEGIN
  FOR zone_name IN SELECT time_zone FROM {{schema}}.token_usage_rollup_zones WHERE time_zone <> 'UTC' ORDER BY time_zone LOOP
    EXECUTE {{schema}}.token_usage_daily_detail_statement(
      $rows$SELECT -1 AS sign, * FROM {{schema}}.token_usage WHERE granularity = 'day'$rows$, format('SELECT %L::text AS time_zone', zone_name));
  END LOOP;
END
$take_out$;

CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_statement(changes TEXT, zones TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $function$
  SELECT format($sql$
    WITH delta AS MATERIALIZED (
        SELECT zone.time_zone,
               CASE WHEN granularity = 'hour' THEN (bucket_start AT TIME ZONE zone.time_zone)::date
                    ELSE (bucket_start AT TIME ZONE 'UTC')::date END AS day,
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

-- The trigger functions hold the statement's text as it was generated: the
-- same replacement in each, checked to have happened.
DO $regenerate$
DECLARE
  local_day_of_every_row CONSTANT TEXT := $old$CASE WHEN granularity = 'month' THEN (bucket_start AT TIME ZONE 'UTC')::date
                    ELSE (bucket_start AT TIME ZONE zone.time_zone)::date END AS day,$old$;
  local_day_of_hours CONSTANT TEXT := $new$CASE WHEN granularity = 'hour' THEN (bucket_start AT TIME ZONE zone.time_zone)::date
                    ELSE (bucket_start AT TIME ZONE 'UTC')::date END AS day,$new$;
  trigger_function TEXT;
  body TEXT;
BEGIN
  FOREACH trigger_function IN ARRAY ARRAY['token_usage_daily_detail_on_insert', 'token_usage_daily_detail_on_update', 'token_usage_daily_detail_on_delete'] LOOP
    SELECT prosrc INTO STRICT body FROM pg_proc
    WHERE oid = format('{{schema}}.%I()', trigger_function)::regprocedure;
    IF position(local_day_of_every_row IN body) = 0 THEN
      RAISE EXCEPTION 'utt migration 0020: %() does not hold the day expression it replaces', trigger_function;
    END IF;
    EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.%I() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
                   trigger_function, replace(body, local_day_of_every_row, local_day_of_hours));
  END LOOP;
END
$regenerate$;

-- The day rows back, on their dates; the roll-up rows they left empty go.
DO $put_back$
DECLARE
  zone_name TEXT;
BEGIN
  FOR zone_name IN SELECT time_zone FROM {{schema}}.token_usage_rollup_zones WHERE time_zone <> 'UTC' ORDER BY time_zone LOOP
    EXECUTE {{schema}}.token_usage_daily_detail_statement(
      $rows$SELECT 1 AS sign, * FROM {{schema}}.token_usage WHERE granularity = 'day'$rows$, format('SELECT %L::text AS time_zone', zone_name));
  END LOOP;
END
$put_back$;
DELETE FROM {{schema}}.token_usage_daily_detail WHERE time_zone <> 'UTC' AND row_count = 0;
DELETE FROM {{schema}}.token_usage_daily_by_user WHERE time_zone <> 'UTC' AND row_count = 0;
