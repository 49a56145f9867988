-- utt smoke checks: run them after a cycle to see that data flows and the
-- invariants hold. `utt verify` (UsageStore.verify in @utt/postgres) runs
-- exactly these queries and compares them with the configured sources; you can
-- also run them by hand:
--   sed 's/{{schema}}/"utt"/g' sql/queries/verification.sql | psql "$DATABASE_URL"
--
-- Each query starts with a `-- name:` line; the code finds them by that name.

-- name: rows_per_source_system
-- Every enabled, non-paused source should have rows. latest_update is what
-- freshness is judged on (updated_at, never created_at: invariant 8).
SELECT source_system,
       COUNT(*)        AS row_count,
       MAX(updated_at) AS latest_update
FROM {{schema}}.token_usage
GROUP BY source_system
ORDER BY source_system;

-- name: cache_values_per_source_system
-- A source that reports no cache data must leave the cache columns NULL, never
-- 0 (invariant 2); one that reports cache reads only must leave the write
-- columns NULL.
SELECT source_system,
       COUNT(*) FILTER (WHERE cached_read_tokens = 0)            AS cached_read_zero_rows,
       COUNT(*) FILTER (WHERE cached_read_tokens IS NOT NULL)    AS cached_read_rows,
       COUNT(*) FILTER (WHERE cached_write_tokens = 0)           AS cached_write_zero_rows,
       COUNT(*) FILTER (WHERE cached_write_tokens IS NOT NULL
                           OR cached_write_1h_tokens IS NOT NULL) AS cached_write_rows
FROM {{schema}}.token_usage
GROUP BY source_system
ORDER BY source_system;

-- name: row_invariant_violations
-- Each column counts the rows that break one rule; all should be 0.
SELECT COUNT(*) FILTER (WHERE cached_write_1h_tokens > cached_write_tokens) AS cached_write_1h_over_cached_write,
       COUNT(*) FILTER (WHERE reasoning_tokens > output_tokens)             AS reasoning_over_output,
       COUNT(*) FILTER (WHERE input_tokens < 0 OR output_tokens < 0
                           OR cached_read_tokens < 0 OR cached_write_tokens < 0
                           OR cached_write_1h_tokens < 0 OR reasoning_tokens < 0
                           OR requests < 0)                                AS negative_counters,
       COUNT(*) FILTER (WHERE (cost_usd IS NULL) <> (cost_source IS NULL)) AS cost_without_cost_source
FROM {{schema}}.token_usage;

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
