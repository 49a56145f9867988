-- utt migration 0014: the prune horizon of @utt/tracker's per-call ledger.
--
-- Pruning (`utt prune-calls`, `store.pruneTrackedCalls`) deletes tracked_call
-- rows of old hours and moves their sums to tracked_cell_carry, so the
-- token_usage cells keep their totals. Once a call's row is gone, its event id
-- and response id no longer stop a second copy of it: a batch retried after
-- the prune (a process that was down for the whole retention period, a
-- replayed spool) would be inserted again and its cell would count it twice.
-- So each prune records, per application, the instant before which calls were
-- pruned, and a write refuses calls of hours before it (the tracker counts
-- them as dropped): a cell behind the horizon never changes again.

CREATE TABLE {{schema}}.tracked_call_horizon (
  -- token_usage.source_system of the pruned calls (the tracker's application).
  source_system  TEXT        PRIMARY KEY,
  -- Calls of hours that start before this instant were pruned; new ones are refused.
  pruned_before  TIMESTAMPTZ NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

COMMENT ON TABLE {{schema}}.tracked_call_horizon IS
  'utt: per application, the instant before which tracked calls were pruned; writes refuse calls of hours before it';
