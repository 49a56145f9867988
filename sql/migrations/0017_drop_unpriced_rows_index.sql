-- utt migration 0017: the unpriced rows' partial index (0015) is dropped.
--
-- `utt verify`, `utt prices check`, `utt doctor` and the dashboard's data
-- quality panel now list the unpriced rows from the daily roll-ups
-- (@utt/postgres unpricedModelTotals: 53 ms of PostgreSQL's work on a year of
-- 5,045,760 hourly rows, against 188 ms through this index, and 70 ms on
-- PGlite against 1.3 s), so no query reads the index any more, while every
-- unpriced row written still paid to maintain it.
DROP INDEX IF EXISTS {{schema}}.token_usage_unpriced_idx;
