-- utt smoke checks: run them after a cycle to see that data flows and the
-- invariants hold. `utt verify` (UsageStore.verify in @utt/postgres) runs
-- exactly these queries and compares them with the configured sources; you can
-- also run them by hand:
--   sed 's/{{schema}}/"utt"/g' sql/queries/verification.sql | psql "$DATABASE_URL"
--
-- Each query starts with a `-- name:` line; the code finds them by that name.

-- name: rows_per_source_system
-- Every enabled, non-paused source should have rows. Read from the daily
-- roll-up the database keeps (token_usage_daily), not from millions of raw
-- rows. Freshness is judged on MAX(token_usage.updated_at), never created_at
-- (invariant 8): see `utt watchdog`.
SELECT source_system,
       SUM(row_count)::bigint AS row_count
FROM {{schema}}.token_usage_daily
GROUP BY source_system
HAVING SUM(row_count) > 0
ORDER BY source_system;

-- name: cache_values_per_source_system
-- A source that reports no cache data must leave the cache columns NULL, never
-- 0 (invariant 2); one that reports cache reads only must leave the write
-- columns NULL.
SELECT source_system,
       SUM(cached_read_zero_rows)::bigint   AS cached_read_zero_rows,
       SUM(cached_read_tokens_rows)::bigint AS cached_read_rows,
       SUM(cached_write_zero_rows)::bigint  AS cached_write_zero_rows,
       SUM(cached_write_any_rows)::bigint   AS cached_write_rows
FROM {{schema}}.token_usage_daily
GROUP BY source_system
ORDER BY source_system;

-- name: row_invariant_violations
-- Each column counts the rows that break one rule; all should be 0. The
-- daily roll-up counts them as rows are written (see 0005_usage_daily.sql);
-- to list the rows themselves, filter token_usage on the same condition.
SELECT COALESCE(SUM(cached_write_1h_over_cached_write), 0)::bigint AS cached_write_1h_over_cached_write,
       COALESCE(SUM(reasoning_over_output), 0)::bigint             AS reasoning_over_output,
       COALESCE(SUM(negative_counters), 0)::bigint                 AS negative_counters,
       COALESCE(SUM(cost_without_cost_source), 0)::bigint          AS cost_without_cost_source
FROM {{schema}}.token_usage_daily;

-- name: unaligned_watermarks
-- A watermark must sit on a UTC boundary of its granularity (invariant 10).
SELECT source, granularity, watermark
FROM {{schema}}.rollup_watermark
WHERE watermark <> date_trunc(granularity, watermark AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
ORDER BY source;

-- name: watchdog_sources
-- Every enabled source, and the worker's own '__heartbeat__', should have a row.
SELECT source, source_system, status, updated_at
FROM {{schema}}.watchdog_status
ORDER BY source;
