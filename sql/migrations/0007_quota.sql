-- utt migration 0007: quota readings (how close each account is to its limits)
-- and the state of edge-triggered alerts.
--
-- quota_reading is a history: one row per source, account, window and reading.
-- A reading identical to the stored one (same ratio, raw value, limit,
-- remaining, reset and status) within 30 minutes of that row's first
-- observation is not stored again: the row's confirmed_at moves instead, so
-- freshness stays visible while a quiet account adds at most two rows an hour.
-- A reading's account is a stable id (email, organisation id, key alias),
-- never a token (invariant 13; the worker refuses token-like accounts).

CREATE TABLE {{schema}}.quota_reading (
  id              BIGSERIAL   PRIMARY KEY,
  -- The configured source that produced it (watchdog_status has 'quota:<source>').
  source          TEXT        NOT NULL,
  provider        TEXT        NOT NULL,
  account         TEXT        NOT NULL,
  -- Named by duration ('5h', '7d', '7d_sonnet', 'month', 'requests_1m'), never
  -- by a provider's position; 'account' for a reading about the whole account.
  quota_window    TEXT        NOT NULL,
  window_seconds  INTEGER     NULL CONSTRAINT quota_reading_window_seconds_check CHECK (window_seconds > 0),
  -- Used share 0–1, not clamped (over-quota is above 1). NULL = unknown, never 0.
  used_ratio      DOUBLE PRECISION NULL,
  -- The number as the source gave it and its unit (percent, fraction, requests, usd…).
  raw_value       DOUBLE PRECISION NULL,
  raw_unit        TEXT        NULL,
  limit_value     DOUBLE PRECISION NULL,
  remaining       DOUBLE PRECISION NULL,
  -- NULL when no window is running or the source does not say.
  resets_at       TIMESTAMPTZ NULL,
  status          TEXT        NOT NULL
                    CONSTRAINT quota_reading_status_check
                    CHECK (status IN ('allowed', 'warning', 'rejected', 'auth_required', 'invalid_key', 'unknown')),
  obtained_via    TEXT        NOT NULL
                    CONSTRAINT quota_reading_obtained_via_check
                    CHECK (obtained_via IN ('endpoint', 'probe', 'log', 'piggyback')),
  -- When the source first reported this reading, and last reported it unchanged.
  observed_at     TIMESTAMPTZ NOT NULL,
  confirmed_at    TIMESTAMPTZ NOT NULL,
  detail          TEXT        NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT quota_reading_confirmed_check CHECK (confirmed_at >= observed_at),
  CONSTRAINT quota_reading_key UNIQUE (source, provider, account, quota_window, observed_at)
);

-- "The latest reading of each window" and per-account histories.
CREATE INDEX quota_reading_series_idx ON {{schema}}.quota_reading (provider, account, quota_window, observed_at DESC);
CREATE INDEX quota_reading_observed_at_idx ON {{schema}}.quota_reading (observed_at);

COMMENT ON TABLE {{schema}}.quota_reading IS
  'utt: quota readings, one row per source, account, window and distinct reading; used_ratio 0–1 unclamped, NULL = unknown';

-- ---------------------------------------------------------------------------
-- alert_state: the last level each alert rule saw for each subject, so that
-- one-shot cron processes alert once per crossing and once on recovery.
-- ---------------------------------------------------------------------------
CREATE TABLE {{schema}}.alert_state (
  -- The rule's name from the config ('quota-severity', 'underspend', …).
  rule          TEXT        NOT NULL,
  -- What the rule judges: an account and window, a budget, a source.
  subject       TEXT        NOT NULL,
  -- 'ok' or the rule's level ('warning', 'critical', 'underspend', 'stale', …).
  level         TEXT        NOT NULL,
  -- When the current level began, and when a notification about it was last sent.
  since         TIMESTAMPTZ NOT NULL,
  notified_at   TIMESTAMPTZ NULL,
  -- The message of the last notification (no secrets: built from readings and names).
  last_message  TEXT        NULL,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (rule, subject)
);
