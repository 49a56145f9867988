-- utt migration 0016: a tracker cell with calls whose usage never arrived is
-- not fully priced.
--
-- A call recorded with usage origin 'unknown' (a stream cut before its usage,
-- a response dropped unread) has no token counts and no cost. Its token_usage
-- cell used to count it as a request and nothing else, so a cell of 11 priced
-- calls and 1 such call showed the 11 calls' cost as if it were the whole
-- hour. From now on such a cell is unpriced like a cell with an unpriced call:
-- cost_usd NULL and unpriced_reason 'calls_unpriced:N/M:usage_unknown' (see
-- recomputeTrackedCells). A cell is carry + its remaining calls, so the carry
-- of pruned calls keeps how many of them had no usage: a prune leaves the
-- cell as it was.

ALTER TABLE {{schema}}.tracked_cell_carry
  ADD COLUMN IF NOT EXISTS usage_unknown_calls BIGINT NOT NULL DEFAULT 0;

COMMENT ON COLUMN {{schema}}.tracked_cell_carry.usage_unknown_calls IS
  'utt: pruned calls whose usage never arrived (usage origin unknown, no token counts, no cost): the cell stays unpriced';

-- A carry row written before this migration kept the first reason of all its
-- pruned calls, not how many had no usage. When that reason is
-- 'usage_unknown', at least one of them had none: one is the count it can
-- keep (a lower bound; the cell shows unpriced, which is what matters). Its
-- reason is then no reason of an unpriced call with tokens: it is dropped.
UPDATE {{schema}}.tracked_cell_carry
SET usage_unknown_calls = 1, unpriced_reason = NULL
WHERE unpriced_reason = 'usage_unknown';

-- The cells of calls with no usage recorded before this migration: unpriced
-- now, as a write of one more call of their hour would leave them.
WITH parts AS (
  SELECT source_system, source_instance, bucket_start, provider, model, labels, 1::bigint AS requests,
         CASE WHEN cost_usd IS NULL AND usage_origin = 'unknown' AND input_tokens IS NULL AND output_tokens IS NULL THEN 1 ELSE 0 END AS usage_unknown,
         CASE WHEN cost_usd IS NULL AND NOT (usage_origin = 'unknown' AND input_tokens IS NULL AND output_tokens IS NULL)
                   AND COALESCE(input_tokens, output_tokens, cached_read_tokens, cached_write_tokens) IS NOT NULL THEN 1 ELSE 0 END AS unpriced,
         CASE WHEN cost_usd IS NULL AND NOT (usage_origin = 'unknown' AND input_tokens IS NULL AND output_tokens IS NULL)
                   AND COALESCE(input_tokens, output_tokens, cached_read_tokens, cached_write_tokens) IS NOT NULL THEN unpriced_reason END AS unpriced_reason
  FROM {{schema}}.tracked_call
  UNION ALL
  SELECT source_system, source_instance, bucket_start, provider, model, labels, requests, usage_unknown_calls, unpriced_calls,
         CASE WHEN unpriced_calls > 0 THEN unpriced_reason END
  FROM {{schema}}.tracked_cell_carry
), cells AS (
  SELECT source_system, source_instance, bucket_start, provider, model, labels,
         SUM(requests) AS requests, SUM(usage_unknown) AS usage_unknown, SUM(unpriced) AS unpriced, MIN(unpriced_reason) AS unpriced_reason
  FROM parts
  GROUP BY source_system, source_instance, bucket_start, provider, model, labels
  HAVING SUM(usage_unknown) > 0
)
UPDATE {{schema}}.token_usage AS u
SET cost_usd = NULL, cost_source = NULL, price_ref = NULL,
    unpriced_reason = 'calls_unpriced:' || (c.unpriced + c.usage_unknown) || '/' || c.requests || ':' ||
      CASE WHEN c.unpriced = 0 THEN 'usage_unknown' ELSE 'usage_unknown:' || c.usage_unknown || ';' || COALESCE(c.unpriced_reason, 'no_price') END,
    updated_at = now()
FROM cells AS c
WHERE u.source_system = c.source_system AND u.source_instance = c.source_instance AND u.granularity = 'hour'
  AND u.bucket_start = c.bucket_start AND u.provider = c.provider AND u.model = c.model
  AND u.account = '' AND u.api_key = '' AND u.user_id = '' AND u.labels = c.labels;
