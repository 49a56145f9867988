-- utt dashboard panels for Grafana's PostgreSQL data source (or any BI tool).
-- Replace {{schema}} with your schema (default "utt"). $__timeFilter(column) is
-- Grafana's macro for the dashboard's time range; elsewhere write
-- `column >= :from AND column < :to` instead.
--
-- Days are UTC days. Month-granularity rows (subscriptions) land on the first
-- day of their month. @utt/postgres tests run every query below against the
-- migrated schema, so they stay in step with the tables.

-- name: daily_tokens_by_provider
-- Time series: tokens per UTC day and provider. Total tokens = input +
-- cached_read + cached_write + output (the columns never overlap). Rows that
-- report no token counts at all (flat-fee subscriptions) are left out rather
-- than drawn as zero.
SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS "time",
       provider AS metric,
       SUM(COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0)
         + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)) AS tokens
FROM {{schema}}.token_usage
WHERE $__timeFilter(bucket_start)
  AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL
       OR cached_read_tokens IS NOT NULL OR cached_write_tokens IS NOT NULL)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: daily_cost_by_source
-- Time series: USD per UTC day and source (source_system, plus the instance
-- when there is one). Unpriced rows (cost_usd NULL) are left out, not counted
-- as free; `utt report` shows how many there are.
SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS "time",
       source_system || CASE WHEN source_instance <> '' THEN '/' || source_instance ELSE '' END AS metric,
       SUM(cost_usd) AS cost_usd
FROM {{schema}}.token_usage
WHERE $__timeFilter(bucket_start)
  AND cost_usd IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: freshness_per_source
-- Table: one row per configured source and the worker's '__heartbeat__'.
-- Judge staleness on updated_at (invariant 8); a 'paused' source is
-- configured but not operating and is not stale (invariant 9).
SELECT status_row.source,
       status_row.source_system,
       status_row.status,
       status_row.updated_at,
       EXTRACT(EPOCH FROM (now() - status_row.updated_at))::bigint AS seconds_since_update,
       status_row.last_success_at,
       status_row.last_error,
       usage.latest_usage_update
FROM {{schema}}.watchdog_status AS status_row
LEFT JOIN (
  SELECT source_system, MAX(updated_at) AS latest_usage_update
  FROM {{schema}}.token_usage
  GROUP BY source_system
) AS usage ON usage.source_system = status_row.source_system
ORDER BY status_row.source;
