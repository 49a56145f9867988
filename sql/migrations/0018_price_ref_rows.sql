-- utt migration 0018: how many computed rows each price_ref priced, kept by
-- the database, for `utt prices check`.
--
-- `utt prices check` names the price sources that priced stored rows but are
-- no longer in use ("N rows were priced with genai-prices@0.1.7 …"). It
-- counted the computed rows per price_ref over every raw row: 850–930 ms on
-- PostgreSQL and 1.8 s on PGlite over a year of 5 M hourly rows
-- (bench/reports). token_usage_daily_detail cannot answer it: its
-- price_source drops the version, the one part that tells a stale source
-- from the current one.
--
-- token_usage_price_ref_rows holds, per source system, source instance and
-- price_ref, the number of token_usage rows with cost_source 'computed' and
-- that price_ref; a key whose count reaches zero is deleted. It stays equal
-- to counting the raw rows (usage-rollup.test.ts): statement-level AFTER
-- triggers with transition tables apply every INSERT, UPDATE (both halves of
-- INSERT … ON CONFLICT, `utt reprice`), DELETE and TRUNCATE in the same
-- transaction, as the roll-ups of 0005–0012 are kept.
--
-- The source pair is part of the key so that writers of different sources
-- never wait on each other here: writers of one source are serialised already
-- (lockSourceWrite), and a price_ref alone would be shared by every source that
-- uses the same model. The upserts are sorted by key, and the triggers' names
-- sort after the roll-ups' so every statement locks these rows last.
--
-- The table holds a few hundred rows (sources × the price_refs their stored rows name), so
-- reading it costs nothing; what it costs a writer is one pass over the
-- statement's rows and one upsert per key it touched (bench/reports/README.md).

CREATE TABLE {{schema}}.token_usage_price_ref_rows (
  source_system   TEXT   NOT NULL,
  source_instance TEXT   NOT NULL,
  price_ref       TEXT   NOT NULL,
  row_count       BIGINT NOT NULL,
  PRIMARY KEY (source_system, source_instance, price_ref)
);

COMMENT ON TABLE {{schema}}.token_usage_price_ref_rows IS
  'utt: token_usage rows with cost_source computed, per source and price_ref; kept by triggers (migration 0018)';

CREATE FUNCTION {{schema}}.token_usage_price_ref_rows_on_insert() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
BEGIN
  INSERT INTO {{schema}}.token_usage_price_ref_rows AS kept (source_system, source_instance, price_ref, row_count)
  SELECT source_system, source_instance, price_ref, count(*)
  FROM new_rows
  WHERE cost_source = 'computed' AND price_ref IS NOT NULL
  GROUP BY 1, 2, 3
  -- One order for every writer, so two transactions touching the same keys cannot deadlock here.
  ORDER BY 1, 2, 3
  ON CONFLICT (source_system, source_instance, price_ref) DO UPDATE SET row_count = kept.row_count + EXCLUDED.row_count;
  RETURN NULL;
END
$function$;

-- Adds a signed change per key (keys unique, counts non-zero) and deletes the
-- keys it empties. Called by the UPDATE and DELETE triggers with their net
-- change, and by the retention recipe of docs/scaling.md with a dropped
-- month's rows (negated).
CREATE FUNCTION {{schema}}.token_usage_price_ref_rows_apply(
  source_systems TEXT[], source_instances TEXT[], price_refs TEXT[], row_counts BIGINT[]) RETURNS void
LANGUAGE plpgsql SET jit = off AS $function$
DECLARE
  emptied_systems   TEXT[];
  emptied_instances TEXT[];
  emptied_refs      TEXT[];
BEGIN
  WITH applied AS (
    INSERT INTO {{schema}}.token_usage_price_ref_rows AS kept (source_system, source_instance, price_ref, row_count)
    SELECT * FROM unnest(source_systems, source_instances, price_refs, row_counts)
    -- One order for every writer, so two transactions touching the same keys cannot deadlock here.
    ORDER BY 1, 2, 3
    ON CONFLICT (source_system, source_instance, price_ref) DO UPDATE SET row_count = kept.row_count + EXCLUDED.row_count
    RETURNING kept.source_system, kept.source_instance, kept.price_ref, kept.row_count
  )
  SELECT array_agg(applied.source_system), array_agg(applied.source_instance), array_agg(applied.price_ref)
  FROM applied WHERE applied.row_count = 0
  INTO emptied_systems, emptied_instances, emptied_refs;
  IF emptied_systems IS NOT NULL THEN
    DELETE FROM {{schema}}.token_usage_price_ref_rows AS kept
    USING unnest(emptied_systems, emptied_instances, emptied_refs) AS emptied(source_system, source_instance, price_ref)
    WHERE kept.source_system = emptied.source_system AND kept.source_instance = emptied.source_instance
      AND kept.price_ref = emptied.price_ref AND kept.row_count = 0;
  END IF;
END
$function$;

-- An UPDATE that keeps every row's price_ref (a replay of the settle window,
-- a reprice to the same prices) nets to zero and writes nothing here.
CREATE FUNCTION {{schema}}.token_usage_price_ref_rows_on_update() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
BEGIN
  PERFORM {{schema}}.token_usage_price_ref_rows_apply(
            array_agg(source_system), array_agg(source_instance), array_agg(price_ref), array_agg(row_count))
  FROM (SELECT source_system, source_instance, price_ref, sum(sign)::bigint AS row_count
        FROM (SELECT 1 AS sign, source_system, source_instance, price_ref FROM new_rows
              WHERE cost_source = 'computed' AND price_ref IS NOT NULL
              UNION ALL
              SELECT -1, source_system, source_instance, price_ref FROM old_rows
              WHERE cost_source = 'computed' AND price_ref IS NOT NULL) AS signed
        GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0) AS net
  HAVING count(*) > 0;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_price_ref_rows_on_delete() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $function$
BEGIN
  PERFORM {{schema}}.token_usage_price_ref_rows_apply(
            array_agg(source_system), array_agg(source_instance), array_agg(price_ref), array_agg(-row_count))
  FROM (SELECT source_system, source_instance, price_ref, count(*) AS row_count
        FROM old_rows
        WHERE cost_source = 'computed' AND price_ref IS NOT NULL
        GROUP BY 1, 2, 3) AS gone
  HAVING count(*) > 0;
  RETURN NULL;
END
$function$;

CREATE FUNCTION {{schema}}.token_usage_price_ref_rows_on_truncate() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
  TRUNCATE {{schema}}.token_usage_price_ref_rows;
  RETURN NULL;
END
$function$;

-- PostgreSQL refuses a column list (UPDATE OF price_ref, …) on a trigger with
-- transition tables: the UPDATE trigger sees every update, and one that keeps
-- every price_ref nets to zero.
CREATE TRIGGER token_usage_price_ref_rows_insert AFTER INSERT ON {{schema}}.token_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_price_ref_rows_on_insert();
CREATE TRIGGER token_usage_price_ref_rows_update AFTER UPDATE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_price_ref_rows_on_update();
CREATE TRIGGER token_usage_price_ref_rows_delete AFTER DELETE ON {{schema}}.token_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_price_ref_rows_on_delete();
CREATE TRIGGER token_usage_price_ref_rows_truncate AFTER TRUNCATE ON {{schema}}.token_usage
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.token_usage_price_ref_rows_on_truncate();

-- The rows already there, counted after the triggers exist: creating them
-- locked token_usage against writers until this migration commits.
INSERT INTO {{schema}}.token_usage_price_ref_rows (source_system, source_instance, price_ref, row_count)
SELECT source_system, source_instance, price_ref, count(*)
FROM {{schema}}.token_usage
WHERE cost_source = 'computed' AND price_ref IS NOT NULL
GROUP BY 1, 2, 3;
