-- utt billed vs computed: per UTC day, source system and provider, what the
-- provider says it billed (provider_cost, USD) beside what utt computed from
-- token counts and prices (token_usage.cost_usd), and the gap in percent of
-- the billed amount. `utt report --reconcile` (UsageStore.reconcile in
-- @utt/postgres) runs exactly this query; by hand:
--   sed 's/{{schema}}/"utt"/g' sql/queries/reconcile.sql | psql "$DATABASE_URL" -v ...
--
-- Each query starts with a `-- name:` line; the code finds it by that name.

-- name: billed_vs_computed
-- $1, $2: the range [since, until) on bucket_start; either may be NULL (open).
-- Only source systems that report billing are compared, so a local log or a
-- subscription source never shows up as "computed, not billed". Monthly rows
-- cannot be placed on a day and are left out. unpriced_rows counts usage rows
-- with tokens but no price: spend the computed side is missing, so a gap next
-- to them says "add prices", not "the provider overcharges".
WITH billing_systems AS (
  SELECT DISTINCT source_system FROM {{schema}}.provider_cost
),
billed AS (
  SELECT bucket_start AS day,
         source_system,
         provider,
         SUM(amount_usd) AS billed_usd
  FROM {{schema}}.provider_cost
  WHERE currency = 'USD'
    AND ($1::timestamptz IS NULL OR bucket_start >= $1::timestamptz)
    AND ($2::timestamptz IS NULL OR bucket_start < $2::timestamptz)
  GROUP BY 1, 2, 3
),
-- The whole UTC days of the range come from the daily roll-up the database
-- keeps (token_usage_daily), the partial days at either end from token_usage:
-- the same totals as summing the raw rows, in milliseconds over a year.
-- The bounds are written out in each condition (not joined from a CTE) so
-- that the planner sees them as values and uses the bucket_start index.
-- first midnight at or after $1: (CASE WHEN (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') = COALESCE($1::timestamptz, '-infinity') THEN COALESCE($1::timestamptz, '-infinity') ELSE (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 day' END)
-- last midnight at or before $2: (date_trunc('day', COALESCE($2::timestamptz, 'infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
usage_days AS (
  SELECT day_start AS day, source_system, provider, cost_usd, cost_rows, unpriced_rows
  FROM {{schema}}.token_usage_daily
  WHERE granularity IN ('hour', 'day')
    AND source_system IN (SELECT source_system FROM billing_systems)
    AND day_start >= (CASE WHEN (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') = COALESCE($1::timestamptz, '-infinity') THEN COALESCE($1::timestamptz, '-infinity') ELSE (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 day' END)
    AND day_start < (date_trunc('day', COALESCE($2::timestamptz, 'infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
  UNION ALL
  SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
         source_system, provider,
         COALESCE(cost_usd, 0),
         (cost_usd IS NOT NULL)::int,
         (cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0)
                              + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) > 0)::int
  FROM {{schema}}.token_usage
  WHERE granularity IN ('hour', 'day')
    AND source_system IN (SELECT source_system FROM billing_systems)
    AND ((bucket_start >= COALESCE($1::timestamptz, '-infinity') AND bucket_start < LEAST((CASE WHEN (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') = COALESCE($1::timestamptz, '-infinity') THEN COALESCE($1::timestamptz, '-infinity') ELSE (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 day' END), COALESCE($2::timestamptz, 'infinity')))
      OR (bucket_start >= GREATEST((CASE WHEN (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') = COALESCE($1::timestamptz, '-infinity') THEN COALESCE($1::timestamptz, '-infinity') ELSE (date_trunc('day', COALESCE($1::timestamptz, '-infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 day' END), (date_trunc('day', COALESCE($2::timestamptz, 'infinity') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')) AND bucket_start < COALESCE($2::timestamptz, 'infinity')))
),
computed AS (
  SELECT day, source_system, provider,
         CASE WHEN SUM(cost_rows) > 0 THEN SUM(cost_usd) END AS computed_usd,
         SUM(unpriced_rows) AS unpriced_rows
  FROM usage_days
  GROUP BY 1, 2, 3
)
SELECT COALESCE(billed.day, computed.day)                     AS day,
       COALESCE(billed.source_system, computed.source_system) AS source_system,
       COALESCE(billed.provider, computed.provider)           AS provider,
       billed.billed_usd::text                                AS billed_usd,
       computed.computed_usd::text                            AS computed_usd,
       ROUND((computed.computed_usd - billed.billed_usd) * 100 / NULLIF(billed.billed_usd, 0), 2)::text AS gap_percent,
       COALESCE(computed.unpriced_rows, 0)                    AS unpriced_rows
FROM billed
FULL OUTER JOIN computed
  ON computed.day = billed.day
 AND computed.source_system = billed.source_system
 AND computed.provider = billed.provider
ORDER BY 1, 2, 3;
