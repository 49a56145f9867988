-- utt migration 0003: small durable state a source keeps between cycles.
--
-- Adapters never touch the database. An incremental reader (coding-agent
-- transcripts) still needs to remember byte offsets and per-hour partial sums;
-- it stages them through the adapter context and the worker writes them here
-- in the same transaction as the rows they describe (invariant 12), so state
-- and data can never disagree after a crash.

CREATE TABLE {{schema}}.source_state (
  -- The configured source name, as in watchdog_status and rollup_watermark.
  source      TEXT        NOT NULL,
  -- The adapter's key (it namespaces keys by machine where several share a source).
  key         TEXT        NOT NULL,
  value       JSONB       NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (source, key)
);
