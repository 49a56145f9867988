-- utt migration 0002: what providers say they billed, beside what utt computes.
--
-- token_usage.cost_usd is usually computed from token counts and prices. The
-- providers' own billing (OpenAI Costs API, Anthropic cost report, Copilot
-- billing, LiteLLM's spend counter) lands here, one row per day and line item,
-- so `utt report --reconcile` can show billed vs computed and the gap: the
-- test of whether the computed numbers can be trusted.

CREATE TABLE {{schema}}.provider_cost (
  id               BIGSERIAL   PRIMARY KEY,
  -- Dimensions use '' for "not applicable", as in token_usage (invariant 5).
  source_system    TEXT        NOT NULL,
  source_instance  TEXT        NOT NULL DEFAULT '',
  -- Billing is daily: the UTC start of the day.
  bucket_start     TIMESTAMPTZ NOT NULL
                     CONSTRAINT provider_cost_bucket_start_day_check
                     CHECK (bucket_start = date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
  provider         TEXT        NOT NULL,
  account          TEXT        NOT NULL DEFAULT '',
  -- '' where a line item cannot be tied to a model.
  model            TEXT        NOT NULL DEFAULT '',
  line_item        TEXT        NOT NULL,
  -- Exact money; negative for credits and refunds.
  amount_usd       NUMERIC     NOT NULL,
  currency         TEXT        NOT NULL DEFAULT 'USD',
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Replacement upserts, like token_usage (invariant 1): a provider revising a
  -- day overwrites it.
  CONSTRAINT provider_cost_conflict_key
    UNIQUE (source_system, source_instance, bucket_start, provider, account, model, line_item)
);

CREATE INDEX provider_cost_bucket_start_idx ON {{schema}}.provider_cost (bucket_start);
CREATE INDEX provider_cost_provider_bucket_idx ON {{schema}}.provider_cost (provider, bucket_start);
