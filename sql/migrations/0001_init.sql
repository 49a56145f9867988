-- utt migration 0001: the fact table, per-source status and per-source watermarks.
--
-- {{schema}} stands for the configured schema (default utt). @utt/postgres
-- replaces it with the validated, double-quoted identifier, creates the schema,
-- runs this file in one transaction and records it in {{schema}}.utt_migrations.
-- To apply it by hand, substitute the placeholder yourself, for example:
--   sed 's/{{schema}}/"utt"/g' sql/migrations/0001_init.sql | psql "$DATABASE_URL"
-- after `CREATE SCHEMA utt;` (and insert '0001_init' into utt.utt_migrations
-- if a worker will later run against the same database).

-- ---------------------------------------------------------------------------
-- token_usage: one row per source, bucket and dimension combination.
-- ---------------------------------------------------------------------------
CREATE TABLE {{schema}}.token_usage (
  id                      BIGSERIAL PRIMARY KEY,

  -- Dimensions. Every one is NOT NULL and uses '' for "not applicable"
  -- (labels uses '{}'). A unique constraint treats NULLs as distinct before
  -- PostgreSQL 15 (and without NULLS NOT DISTINCT after it), so a NULL model
  -- or account would let the same bucket be inserted again on every run and
  -- the totals would grow with each replay (invariant 5). With '' the
  -- conflict key below works on every PostgreSQL version.
  source_system           TEXT        NOT NULL,
  source_instance         TEXT        NOT NULL DEFAULT '',
  granularity             TEXT        NOT NULL
                            CONSTRAINT token_usage_granularity_check
                            CHECK (granularity IN ('hour', 'day', 'month')),
  -- The UTC start of the bucket. It must sit on a boundary of its granularity:
  -- a bucket starting mid-hour would be a second row for the same hour that a
  -- later, aligned write could never replace, so its tokens would be counted twice.
  bucket_start            TIMESTAMPTZ NOT NULL
                            CONSTRAINT token_usage_bucket_start_aligned_check
                            CHECK (bucket_start = date_trunc(granularity, bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
  provider                TEXT        NOT NULL,
  model                   TEXT        NOT NULL DEFAULT '',
  account                 TEXT        NOT NULL DEFAULT '',
  -- An id or alias of the key (e.g. 'key_abc123' or 'ci-bot'), never the secret
  -- itself (invariant 13).
  api_key                 TEXT        NOT NULL DEFAULT '',
  user_id                 TEXT        NOT NULL DEFAULT '',
  -- Free-form string labels. jsonb equality ignores key order, so {"a":"1","b":"2"}
  -- and {"b":"2","a":"1"} are the same key.
  labels                  JSONB       NOT NULL DEFAULT '{}'
                            CONSTRAINT token_usage_labels_object_check
                            CHECK (jsonb_typeof(labels) = 'object'),

  -- Counters. NULL means the source does not report this number; 0 means it
  -- reported zero (invariant 2). A cache column that a provider never reports
  -- must stay NULL, or a cache-hit-ratio panel would show a real 0 %.
  -- The buckets never overlap: total input = input + cached_read + cached_write;
  -- output includes reasoning; cached_write_1h is the 1-hour-TTL part of
  -- cached_write. BIGINT because busy gateways pass 2^31 tokens.
  input_tokens            BIGINT NULL CONSTRAINT token_usage_input_tokens_check            CHECK (input_tokens >= 0),
  output_tokens           BIGINT NULL CONSTRAINT token_usage_output_tokens_check           CHECK (output_tokens >= 0),
  cached_read_tokens      BIGINT NULL CONSTRAINT token_usage_cached_read_tokens_check      CHECK (cached_read_tokens >= 0),
  cached_write_tokens     BIGINT NULL CONSTRAINT token_usage_cached_write_tokens_check     CHECK (cached_write_tokens >= 0),
  cached_write_1h_tokens  BIGINT NULL CONSTRAINT token_usage_cached_write_1h_tokens_check  CHECK (cached_write_1h_tokens >= 0),
  reasoning_tokens        BIGINT NULL CONSTRAINT token_usage_reasoning_tokens_check        CHECK (reasoning_tokens >= 0),
  requests                BIGINT NULL CONSTRAINT token_usage_requests_check                CHECK (requests >= 0),

  -- Money. NUMERIC, never a float, so that many tiny per-token prices sum
  -- exactly. NULL when the row is not priced (no price known), which a report
  -- shows as "unpriced", not as free. cost_source says where the number came
  -- from and is set exactly when cost_usd is (checked by verification.sql).
  cost_usd                NUMERIC NULL,
  cost_source             TEXT    NULL
                            CONSTRAINT token_usage_cost_source_check
                            CHECK (cost_source IN ('provider', 'computed', 'fixed')),

  -- How the counts were obtained (invariant 4): 'exact' per-request counts,
  -- 'provider_aggregate' totals a provider reported, 'derived_estimate' numbers
  -- inferred from something else (a flat fee, lines of code).
  measurement_basis       TEXT    NOT NULL
                            CONSTRAINT token_usage_measurement_basis_check
                            CHECK (measurement_basis IN ('exact', 'provider_aggregate', 'derived_estimate')),

  -- created_at is when the row first appeared; updated_at moves on every
  -- write, including a replay that changes no number. Freshness is judged on
  -- MAX(updated_at), never MAX(created_at) (invariant 8): a source whose
  -- buckets are re-collected every cycle creates no new rows, yet it is fresh.
  created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),

  -- The conflict key of the replacement upsert (invariant 1): writing the same
  -- window twice updates these rows in place instead of adding to them.
  CONSTRAINT token_usage_conflict_key UNIQUE (
    source_system, source_instance, granularity, bucket_start,
    provider, model, account, api_key, user_id, labels
  )
);

-- Dashboards and reports filter on a time range, often for one source system.
CREATE INDEX token_usage_bucket_start_idx ON {{schema}}.token_usage (bucket_start);
CREATE INDEX token_usage_source_system_bucket_start_idx ON {{schema}}.token_usage (source_system, bucket_start);

COMMENT ON TABLE {{schema}}.token_usage IS
  'utt: AI token usage and cost, one row per (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels). NULL counter = not reported; '''' dimension = not applicable.';

-- ---------------------------------------------------------------------------
-- watchdog_status: what the worker last did for each configured source.
-- ---------------------------------------------------------------------------
CREATE TABLE {{schema}}.watchdog_status (
  -- The configured source name, or '__heartbeat__' for the worker itself: an
  -- external watchdog that sees the heartbeat go stale knows the worker died,
  -- which the per-source rows alone cannot tell it.
  source           TEXT        PRIMARY KEY,
  source_system    TEXT        NOT NULL DEFAULT '',
  -- 'paused' marks a source that is configured but deliberately not operating
  -- (invariant 9): reported, never called stale.
  status           TEXT        NOT NULL
                     CONSTRAINT watchdog_status_status_check
                     CHECK (status IN ('ok', 'error', 'stale', 'paused')),
  last_run_at      TIMESTAMPTZ NULL,
  -- Kept across failed runs, so "failing since" is visible.
  last_success_at  TIMESTAMPTZ NULL,
  -- Redacted by the worker before it gets here (invariant 13).
  last_error       TEXT        NULL,
  -- Rows the last successful run wrote.
  rows_written     BIGINT      NOT NULL DEFAULT 0,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------
-- rollup_watermark: where each source's next collection starts.
-- ---------------------------------------------------------------------------
CREATE TABLE {{schema}}.rollup_watermark (
  source         TEXT        PRIMARY KEY,
  source_system  TEXT        NOT NULL DEFAULT '',
  granularity    TEXT        NOT NULL
                   CONSTRAINT rollup_watermark_granularity_check
                   CHECK (granularity IN ('hour', 'day', 'month')),
  -- The aligned UTC end of the last bucket that is complete and written. It is
  -- written in the same transaction as that bucket's rows and the source's
  -- status (invariant 12), so it never runs ahead of the data. It is not
  -- constrained to a boundary here because older writers and hand edits may
  -- leave an unaligned value: the worker snaps it on read (invariant 10) and
  -- verification.sql reports it.
  watermark      TIMESTAMPTZ NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
