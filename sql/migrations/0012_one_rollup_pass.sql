-- utt migration 0012: an INSERT into token_usage keeps its three roll-ups in
-- one pass over the new rows.
--
-- Until now each INSERT statement ran two triggers: token_usage_daily_insert
-- (0005) grouped the new rows by UTC day and model, and
-- token_usage_daily_detail_insert (0009) grouped them again, once per kept
-- zone, by every dimension of token_usage_daily_detail, then summed that
-- delta once more for token_usage_daily_by_user. Measured on a cold Claude
-- Code backfill (15,315 hourly rows in four statements; bench/agent-logs),
-- the two triggers took 130–150 ms of PostgreSQL's CPU, about as much as
-- inserting the rows and their four index entries.
--
-- Now one trigger (token_usage_daily_detail_insert, its function replaced)
-- does all three for UTC in one statement: the new rows are grouped once by
-- UTC day, granularity and every detail dimension, with the sums of both
-- tables (token_usage_daily's checks among them), and the daily, detail and
-- by-user deltas are summed from those groups, a few per hundred rows. Other
-- kept zones are summed from the new rows as before. An INSERT only adds
-- rows: its statements multiply by no sign, count instead of summing
-- IS NOT NULL flags, keep token sums in bigint between levels (they are
-- sums of counters that a CHECK keeps >= 0, so a finer sum never exceeds the
-- coarser one the roll-up stores), and skip the tests for an unchanged or
-- emptied roll-up row, which an insert cannot leave.
--
-- The roll-up rows are locked in the order the two triggers locked them (the
-- detail rows zone by zone in time_zone order, then the daily rows): the
-- combined statement upserts UTC's detail, then its by-user rows, then the
-- daily rows. When a kept zone sorts after 'UTC', or UTC is not kept, the
-- trigger runs the statements of 0010 instead, in their order.
--
-- UPDATE and DELETE keep their triggers (0010). The roll-ups stay equal to
-- summing the raw rows (usage-rollup.test.ts, usage-daily.test.ts).

DO $generate$
DECLARE
  -- As 0010: the kept zone, one at a time, as a parameter.
  one_zone CONSTANT TEXT := 'SELECT zone_name AS time_zone';
  inserted CONSTANT TEXT := 'SELECT 1 AS sign, * FROM new_rows';
  body CONSTANT TEXT := $body$
DECLARE
  zone_name    TEXT;
  from_day     DATE;
  to_day       DATE;
  emptied_from DATE;
  emptied_to   DATE;
  daily_from   TIMESTAMPTZ;
  daily_to     TIMESTAMPTZ;
  touched      BIGINT;
BEGIN
  IF EXISTS (SELECT FROM {{schema}}.token_usage_rollup_zones AS kept WHERE kept.time_zone = 'UTC')
     AND NOT EXISTS (SELECT FROM {{schema}}.token_usage_rollup_zones AS kept WHERE kept.time_zone > 'UTC') THEN
    FOR zone_name IN SELECT kept.time_zone FROM {{schema}}.token_usage_rollup_zones AS kept WHERE kept.time_zone < 'UTC' ORDER BY kept.time_zone LOOP
      %1$s
      INTO from_day, to_day;
    END LOOP;
    %3$s
    INTO touched;
    RETURN NULL;
  END IF;
  FOR zone_name IN SELECT kept.time_zone FROM {{schema}}.token_usage_rollup_zones AS kept ORDER BY kept.time_zone LOOP
    %1$s
    INTO from_day, to_day;
    emptied_from := least(emptied_from, from_day);
    emptied_to := greatest(emptied_to, to_day);
  END LOOP;
  IF emptied_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily_detail WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
    DELETE FROM {{schema}}.token_usage_daily_by_user WHERE day BETWEEN emptied_from AND emptied_to AND row_count = 0;
  END IF;
  %2$s
  INTO daily_from, daily_to;
  IF daily_from IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_daily WHERE day_start BETWEEN daily_from AND daily_to AND row_count = 0;
  END IF;
  RETURN NULL;
END
$body$;
  -- The new rows' UTC roll-ups, all three in one statement.
  all_three CONSTANT TEXT := $sql$
    WITH fine AS MATERIALIZED (
        SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, granularity,
               source_system, source_instance, provider, model, account, api_key, user_id,
               COALESCE(labels->>'project', '') AS project,
               COALESCE(labels->>'billing', '') = 'subscription' AS subscription_billing,
               COALESCE(cost_source, '') AS cost_source,
               split_part(split_part(split_part(COALESCE(price_ref, ''), '@', 1), ':', 1), ';', 1) AS price_source,
               measurement_basis,
               COALESCE(unpriced_reason, '') AS unpriced_reason,
               count(*) AS row_count,
               sum(input_tokens)::bigint AS input_tokens,
               count(input_tokens) AS input_tokens_rows,
               sum(output_tokens)::bigint AS output_tokens,
               count(output_tokens) AS output_tokens_rows,
               sum(cached_read_tokens)::bigint AS cached_read_tokens,
               count(cached_read_tokens) AS cached_read_tokens_rows,
               sum(cached_write_tokens)::bigint AS cached_write_tokens,
               count(cached_write_tokens) AS cached_write_tokens_rows,
               sum(cached_write_1h_tokens)::bigint AS cached_write_1h_tokens,
               count(cached_write_1h_tokens) AS cached_write_1h_tokens_rows,
               sum(reasoning_tokens)::bigint AS reasoning_tokens,
               count(reasoning_tokens) AS reasoning_tokens_rows,
               sum(requests)::bigint AS requests,
               count(requests) AS requests_rows,
               sum(COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0))::bigint AS cache_reporting_input_tokens,
               sum(cost_usd) AS cost_usd,
               count(cost_usd) AS cost_rows,
               count(*) FILTER (WHERE unpriced) AS unpriced_rows,
               sum(row_tokens) FILTER (WHERE unpriced)::bigint AS unpriced_tokens,
               count(*) FILTER (WHERE cached_read_tokens = 0) AS cached_read_zero_rows,
               count(*) FILTER (WHERE cached_write_tokens = 0) AS cached_write_zero_rows,
               count(*) FILTER (WHERE cached_write_tokens IS NOT NULL OR cached_write_1h_tokens IS NOT NULL) AS cached_write_any_rows,
               count(*) FILTER (WHERE cached_write_1h_tokens > cached_write_tokens) AS cached_write_1h_over_cached_write,
               count(*) FILTER (WHERE reasoning_tokens > output_tokens) AS reasoning_over_output,
               count(*) FILTER (WHERE input_tokens < 0 OR output_tokens < 0 OR cached_read_tokens < 0 OR cached_write_tokens < 0
                                OR cached_write_1h_tokens < 0 OR reasoning_tokens < 0 OR requests < 0) AS negative_counters,
               count(*) FILTER (WHERE (cost_usd IS NULL) <> (cost_source IS NULL)) AS cost_without_cost_source
        FROM (SELECT new_rows.*, added.row_tokens, new_rows.cost_usd IS NULL AND added.row_tokens > 0 AS unpriced
              FROM new_rows
              CROSS JOIN LATERAL (SELECT COALESCE(new_rows.input_tokens, 0) + COALESCE(new_rows.cached_read_tokens, 0)
                                         + COALESCE(new_rows.cached_write_tokens, 0) + COALESCE(new_rows.output_tokens, 0) AS row_tokens) AS added) AS change
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    ),
    delta AS MATERIALIZED (
        SELECT 'UTC'::text AS time_zone, day, source_system, source_instance, provider, model, account, api_key, user_id, project,
               subscription_billing, cost_source, price_source, measurement_basis, unpriced_reason,
               sum(row_count)::bigint AS row_count,
               sum(input_tokens)::bigint AS input_tokens,
               sum(input_tokens_rows)::bigint AS input_tokens_rows,
               sum(output_tokens)::bigint AS output_tokens,
               sum(output_tokens_rows)::bigint AS output_tokens_rows,
               sum(cached_read_tokens)::bigint AS cached_read_tokens,
               sum(cached_read_tokens_rows)::bigint AS cached_read_tokens_rows,
               sum(cached_write_tokens)::bigint AS cached_write_tokens,
               sum(cached_write_tokens_rows)::bigint AS cached_write_tokens_rows,
               sum(cached_write_1h_tokens)::bigint AS cached_write_1h_tokens,
               sum(cached_write_1h_tokens_rows)::bigint AS cached_write_1h_tokens_rows,
               sum(reasoning_tokens)::bigint AS reasoning_tokens,
               sum(reasoning_tokens_rows)::bigint AS reasoning_tokens_rows,
               sum(requests)::bigint AS requests,
               sum(requests_rows)::bigint AS requests_rows,
               sum(cache_reporting_input_tokens)::bigint AS cache_reporting_input_tokens,
               sum(cost_usd) AS cost_usd,
               sum(cost_rows)::bigint AS cost_rows,
               sum(unpriced_rows)::bigint AS unpriced_rows,
               sum(unpriced_tokens)::bigint AS unpriced_tokens
        FROM fine
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    ),
    user_delta AS MATERIALIZED (
        SELECT time_zone, day, source_system, source_instance, provider, model, account, user_id, project,
               subscription_billing, cost_source = 'fixed' AS flat_fee,
               sum(row_count) AS row_count,
               COALESCE(sum(input_tokens), 0) AS input_tokens, sum(input_tokens_rows) AS input_tokens_rows,
               COALESCE(sum(output_tokens), 0) AS output_tokens, sum(output_tokens_rows) AS output_tokens_rows,
               COALESCE(sum(cached_read_tokens), 0) AS cached_read_tokens, sum(cached_read_tokens_rows) AS cached_read_tokens_rows,
               COALESCE(sum(cached_write_tokens), 0) AS cached_write_tokens, sum(cached_write_tokens_rows) AS cached_write_tokens_rows,
               COALESCE(sum(cached_write_1h_tokens), 0) AS cached_write_1h_tokens, sum(cached_write_1h_tokens_rows) AS cached_write_1h_tokens_rows,
               COALESCE(sum(reasoning_tokens), 0) AS reasoning_tokens, sum(reasoning_tokens_rows) AS reasoning_tokens_rows,
               COALESCE(sum(requests), 0) AS requests, sum(requests_rows) AS requests_rows,
               COALESCE(sum(cache_reporting_input_tokens), 0) AS cache_reporting_input_tokens,
               COALESCE(sum(cost_usd), 0) AS cost_usd, sum(cost_rows) AS cost_rows,
               sum(unpriced_rows) AS unpriced_rows, COALESCE(sum(unpriced_tokens), 0) AS unpriced_tokens
        FROM delta
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    ),
    applied AS (
      INSERT INTO {{schema}}.token_usage_daily_detail AS detail (
        time_zone, day, source_system, source_instance, provider, model, account, api_key, user_id, project,
        subscription_billing, cost_source, price_source, measurement_basis, unpriced_reason, row_count,
        input_tokens, input_tokens_rows, output_tokens, output_tokens_rows, cached_read_tokens, cached_read_tokens_rows,
        cached_write_tokens, cached_write_tokens_rows, cached_write_1h_tokens, cached_write_1h_tokens_rows,
        reasoning_tokens, reasoning_tokens_rows, requests, requests_rows, cache_reporting_input_tokens,
        cost_usd, cost_rows, unpriced_rows, unpriced_tokens)
      SELECT time_zone, day, source_system, source_instance, provider, model, account, api_key, user_id, project,
             subscription_billing, cost_source, price_source, measurement_basis, unpriced_reason, row_count,
             COALESCE(input_tokens, 0), input_tokens_rows, COALESCE(output_tokens, 0), output_tokens_rows,
             COALESCE(cached_read_tokens, 0), cached_read_tokens_rows, COALESCE(cached_write_tokens, 0), cached_write_tokens_rows,
             COALESCE(cached_write_1h_tokens, 0), cached_write_1h_tokens_rows, COALESCE(reasoning_tokens, 0), reasoning_tokens_rows,
             COALESCE(requests, 0), requests_rows, COALESCE(cache_reporting_input_tokens, 0),
             COALESCE(cost_usd, 0), cost_rows, unpriced_rows, COALESCE(unpriced_tokens, 0)
      FROM delta
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
      RETURNING 1
    ),
    applied_by_user AS (
      INSERT INTO {{schema}}.token_usage_daily_by_user AS by_user
      SELECT * FROM user_delta
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
      RETURNING 1
    ),
    applied_daily AS (
      INSERT INTO {{schema}}.token_usage_daily AS daily (
        day_start, granularity, source_system, source_instance, provider, model, row_count,
        input_tokens, input_tokens_rows, output_tokens, output_tokens_rows, cached_read_tokens, cached_read_tokens_rows,
        cached_write_tokens, cached_write_tokens_rows, cached_write_1h_tokens, cached_write_1h_tokens_rows,
        reasoning_tokens, reasoning_tokens_rows, requests, requests_rows, cost_usd, cost_rows, unpriced_rows, unpriced_tokens,
        cached_read_zero_rows, cached_write_zero_rows, cached_write_any_rows, cached_write_1h_over_cached_write,
        reasoning_over_output, negative_counters, cost_without_cost_source, cache_reporting_input_tokens,
        flat_fee_usd, flat_fee_rows, covered_usd, covered_rows)
      SELECT day::timestamp AT TIME ZONE 'UTC', granularity, source_system, source_instance, provider, model,
             sum(row_count),
             COALESCE(sum(input_tokens), 0), sum(input_tokens_rows),
             COALESCE(sum(output_tokens), 0), sum(output_tokens_rows),
             COALESCE(sum(cached_read_tokens), 0), sum(cached_read_tokens_rows),
             COALESCE(sum(cached_write_tokens), 0), sum(cached_write_tokens_rows),
             COALESCE(sum(cached_write_1h_tokens), 0), sum(cached_write_1h_tokens_rows),
             COALESCE(sum(reasoning_tokens), 0), sum(reasoning_tokens_rows),
             COALESCE(sum(requests), 0), sum(requests_rows),
             COALESCE(sum(cost_usd), 0), sum(cost_rows), sum(unpriced_rows), COALESCE(sum(unpriced_tokens), 0),
             sum(cached_read_zero_rows), sum(cached_write_zero_rows), sum(cached_write_any_rows),
             sum(cached_write_1h_over_cached_write), sum(reasoning_over_output), sum(negative_counters), sum(cost_without_cost_source),
             COALESCE(sum(cache_reporting_input_tokens), 0),
             COALESCE(sum(cost_usd) FILTER (WHERE cost_source = 'fixed'), 0),
             COALESCE(sum(cost_rows) FILTER (WHERE cost_source = 'fixed'), 0),
             COALESCE(sum(cost_usd) FILTER (WHERE cost_source <> 'fixed' AND subscription_billing), 0),
             COALESCE(sum(cost_rows) FILTER (WHERE cost_source <> 'fixed' AND subscription_billing), 0)
      FROM fine
      GROUP BY 1, 2, 3, 4, 5, 6
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
      RETURNING 1
    )
    -- Appended in this order, the writes run detail, by-user, daily: the order the two triggers locked them in.
    SELECT count(*) FROM (SELECT FROM applied UNION ALL SELECT FROM applied_by_user UNION ALL SELECT FROM applied_daily) AS written
  $sql$;
BEGIN
  EXECUTE format('CREATE OR REPLACE FUNCTION {{schema}}.token_usage_daily_detail_on_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off SET enable_sort = off AS %L',
    format(body, {{schema}}.token_usage_daily_detail_statement(inserted, one_zone), {{schema}}.token_usage_daily_statement(inserted), all_three));
END
$generate$;

DROP TRIGGER token_usage_daily_insert ON {{schema}}.token_usage;
DROP FUNCTION {{schema}}.token_usage_daily_on_insert();
