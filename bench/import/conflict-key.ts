/**
 * What token_usage's wide conflict key costs, against the designs that would
 * replace it, on the same final rows (issue #12, item 1): every row its own
 * hourly cell, shaped like `distinct.csv` (hour i mod 8,760 of 2026, user
 * u<i div 8,760>, one model, labels {}).
 *
 * - `wide`: token_usage as migrated (0001–0012), roll-up triggers disabled so
 *   that only the table and its four indexes are measured: the primary key
 *   (id), the ten-column unique key with its jsonb member, (bucket_start),
 *   (source_system, bucket_start).
 * - `wide-lean` (only with --designs): `wide` without the id primary key and
 *   the (source_system, bucket_start) index, so it has the surrogate fact
 *   table's two indexes and differs from it only in the key's width.
 * - `wide+triggers`: the same table with its roll-up triggers, as writers
 *   meet it (the issue's yardstick, "COPY into token_usage", is this).
 * - `surrogate`: an exact surrogate key. A dimension table (dimension_id
 *   identity, the nine non-time key columns, unique) and a fact table keyed
 *   (dimension_id, bucket_start) with the same counters, plus (bucket_start)
 *   for time-range reads. A write first adds the dimensions it lacks, then
 *   joins its rows to their ids.
 * - `hash`: token_usage with a uuid column, md5 of the nine non-time key
 *   columns' row text, unique with bucket_start instead of the ten columns.
 *   Not exact: two cells whose md5 collide would be one row.
 *
 * For each: the first write of the rows (INSERT … SELECT into the empty
 * table, what a cold import or backfill does), then the replacement of every
 * row (INSERT … ON CONFLICT DO UPDATE with new numbers, the worker's settle
 * replay and a re-import's path), then one report read (a year's sums by day
 * and user). Wall time and the PostgreSQL backend's CPU (/proc, so it stands
 * on a loaded machine), rounds taken in turns, medians; then the sizes.
 * Scratch schemas ck_*, dropped at the end.
 *
 *   pnpm --filter @utt/bench exec tsx import/conflict-key.ts --url postgres://…/db [--rows 1000000] [--rounds 3] [--designs wide,wide-lean,surrogate,hash,wide+triggers]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openStore, type SqlClient } from '@utt/postgres';
import { fmt, machine } from '../shared/measure';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.UTT_BENCH_DATABASE_URL },
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    designs: { type: 'string', default: 'wide,surrogate,hash,wide+triggers' },
  },
});
if (!flags.url) throw new Error('pass --url postgres://… (or UTT_BENCH_DATABASE_URL)');
const rows = Number(flags.rows);
const rounds = Number(flags.rounds);

const KEY = 'source_system, source_instance, granularity, provider, model, account, api_key, user_id, labels';
const COUNTERS = 'input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests, cost_usd, cost_source, measurement_basis, price_ref, unpriced_reason';
const COUNTER_LIST = COUNTERS.split(', ');
const replaced = COUNTER_LIST.map((column) => `${column} = EXCLUDED.${column}`).join(', ');
const bumped = `input_tokens + 1 AS input_tokens, ${COUNTER_LIST.slice(1).join(', ')}`;

type Design = {
  name: string;
  /** Creates the empty tables (schema `ck_<name>` exists and is empty). */
  setup(client: SqlClient): Promise<void>;
  firstWrite: string[];
  replace: string[];
  read: string;
  truncate: string;
  relations: string[];
};

const migrated = async (schema: string, withTriggers: boolean) => {
  const store = await openStore({ url: flags.url as string, schema });
  if (!withTriggers) await store.client.exec(`ALTER TABLE ${schema}.token_usage DISABLE TRIGGER USER`);
  await store.close();
};
const wideDesign = (name: string, schema: string, withTriggers: boolean, lean = false): Design => ({
  name,
  setup: async () => {
    await migrated(schema, withTriggers);
    // The same two indexes as the surrogate's fact table: the key and (bucket_start), no id, no (source_system, bucket_start).
    if (lean) await store.client.exec(`ALTER TABLE ${schema}.token_usage DROP CONSTRAINT token_usage_pkey; DROP INDEX ${schema}.token_usage_source_system_bucket_start_idx`);
  },
  firstWrite: [`INSERT INTO ${schema}.token_usage (${KEY}, bucket_start, ${COUNTERS}) SELECT ${KEY}, bucket_start, ${COUNTERS} FROM ck_stage.final_rows`],
  replace: [
    `INSERT INTO ${schema}.token_usage AS stored (${KEY}, bucket_start, ${COUNTERS})
     SELECT ${KEY}, bucket_start, ${bumped} FROM ck_stage.final_rows
     ON CONFLICT (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels)
     DO UPDATE SET ${replaced}, updated_at = now()`,
  ],
  read: `SELECT date_trunc('day', bucket_start), user_id, sum(input_tokens), sum(cost_usd) FROM ${schema}.token_usage
         WHERE bucket_start >= '2026-01-01' AND bucket_start < '2027-01-01' GROUP BY 1, 2`,
  // With the triggers, TRUNCATE empties the roll-ups too (their TRUNCATE triggers).
  truncate: `TRUNCATE ${schema}.token_usage`,
  relations: [`${schema}.token_usage`],
});

const allDesigns: Design[] = [
  wideDesign('wide', 'ck_wide', false),
  wideDesign('wide-lean', 'ck_wide_lean', false, true),
  {
    name: 'surrogate',
    setup: (client) =>
      client.exec(`
        CREATE TABLE ck_surrogate.usage_dimension (
          dimension_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          source_system   TEXT NOT NULL, source_instance TEXT NOT NULL, granularity TEXT NOT NULL, provider TEXT NOT NULL,
          model TEXT NOT NULL, account TEXT NOT NULL, api_key TEXT NOT NULL, user_id TEXT NOT NULL, labels JSONB NOT NULL,
          CONSTRAINT usage_dimension_key UNIQUE (source_system, source_instance, model, labels, granularity, provider, account, api_key, user_id));
        CREATE TABLE ck_surrogate.usage_fact (
          dimension_id BIGINT NOT NULL REFERENCES ck_surrogate.usage_dimension, bucket_start TIMESTAMPTZ NOT NULL,
          input_tokens BIGINT, output_tokens BIGINT, cached_read_tokens BIGINT, cached_write_tokens BIGINT, cached_write_1h_tokens BIGINT,
          reasoning_tokens BIGINT, requests BIGINT, cost_usd NUMERIC, cost_source TEXT, measurement_basis TEXT NOT NULL, price_ref TEXT, unpriced_reason TEXT,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
          PRIMARY KEY (dimension_id, bucket_start));
        CREATE INDEX ON ck_surrogate.usage_fact (bucket_start);`),
    firstWrite: [
      `INSERT INTO ck_surrogate.usage_dimension (${KEY}) SELECT DISTINCT ${KEY} FROM ck_stage.final_rows ON CONFLICT DO NOTHING`,
      `INSERT INTO ck_surrogate.usage_fact (dimension_id, bucket_start, ${COUNTERS})
       SELECT dimension.dimension_id, final_rows.bucket_start, ${COUNTER_LIST.map((column) => `final_rows.${column}`).join(', ')}
       FROM ck_stage.final_rows JOIN ck_surrogate.usage_dimension AS dimension USING (${KEY})`,
    ],
    replace: [
      `INSERT INTO ck_surrogate.usage_dimension (${KEY}) SELECT DISTINCT ${KEY} FROM ck_stage.final_rows ON CONFLICT DO NOTHING`,
      `INSERT INTO ck_surrogate.usage_fact AS stored (dimension_id, bucket_start, ${COUNTERS})
       SELECT dimension.dimension_id, final_rows.bucket_start, final_rows.input_tokens + 1, ${COUNTER_LIST.slice(1).map((column) => `final_rows.${column}`).join(', ')}
       FROM ck_stage.final_rows JOIN ck_surrogate.usage_dimension AS dimension USING (${KEY})
       ON CONFLICT (dimension_id, bucket_start) DO UPDATE SET ${replaced}, updated_at = now()`,
    ],
    read: `SELECT date_trunc('day', fact.bucket_start), dimension.user_id, sum(fact.input_tokens), sum(fact.cost_usd)
           FROM ck_surrogate.usage_fact AS fact JOIN ck_surrogate.usage_dimension AS dimension USING (dimension_id)
           WHERE fact.bucket_start >= '2026-01-01' AND fact.bucket_start < '2027-01-01' GROUP BY 1, 2`,
    truncate: 'TRUNCATE ck_surrogate.usage_fact, ck_surrogate.usage_dimension',
    relations: ['ck_surrogate.usage_fact', 'ck_surrogate.usage_dimension'],
  },
  {
    name: 'hash',
    setup: async (client) => {
      await migrated('ck_hash', false);
      await client.exec(`
        ALTER TABLE ck_hash.token_usage DROP CONSTRAINT token_usage_conflict_key, ADD COLUMN key_hash UUID NOT NULL;
        ALTER TABLE ck_hash.token_usage ADD CONSTRAINT token_usage_hash_key UNIQUE (key_hash, bucket_start);`);
    },
    firstWrite: [
      `INSERT INTO ck_hash.token_usage (key_hash, ${KEY}, bucket_start, ${COUNTERS})
       SELECT md5(row(${KEY})::text)::uuid, ${KEY}, bucket_start, ${COUNTERS} FROM ck_stage.final_rows`,
    ],
    replace: [
      `INSERT INTO ck_hash.token_usage AS stored (key_hash, ${KEY}, bucket_start, ${COUNTERS})
       SELECT md5(row(${KEY})::text)::uuid, ${KEY}, bucket_start, ${bumped} FROM ck_stage.final_rows
       ON CONFLICT (key_hash, bucket_start) DO UPDATE SET ${replaced}, updated_at = now()`,
    ],
    read: `SELECT date_trunc('day', bucket_start), user_id, sum(input_tokens), sum(cost_usd) FROM ck_hash.token_usage
           WHERE bucket_start >= '2026-01-01' AND bucket_start < '2027-01-01' GROUP BY 1, 2`,
    truncate: 'TRUNCATE ck_hash.token_usage',
    relations: ['ck_hash.token_usage'],
  },
  wideDesign('wide+triggers', 'ck_wide_triggers', true),
];
const chosen = (flags.designs as string).split(',');
const designs = allDesigns.filter((design) => chosen.includes(design.name));

const schemaOf = (design: Design) => `ck_${design.name.replace(/[+-]/g, '_')}`;
const store = await openStore({ url: flags.url, schema: 'ck_stage', migrate: false });
const client = store.client;
const dropAll = () => client.exec(['ck_stage', ...designs.map(schemaOf)].map((schema) => `DROP SCHEMA IF EXISTS ${schema} CASCADE;`).join('\n'));

/** CPU seconds (user + system) of a backend process, from /proc (PostgreSQL runs on this machine). */
function backendCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs statements in one transaction on one backend: wall and that backend's CPU. */
async function timed(statements: readonly string[]): Promise<{ wall: number; cpu: number }> {
  return client.transaction(async (tx) => {
    const [backend] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = Number(backend?.pid);
    const cpuBefore = backendCpuSeconds(pid);
    const started = performance.now();
    for (const statement of statements) await tx.exec(statement);
    const wall = (performance.now() - started) / 1000;
    return { wall, cpu: backendCpuSeconds(pid) - cpuBefore };
  });
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
let exitCode = 0;
try {
  await dropAll();
  console.log(`machine: ${machine()}`);
  console.log(`load average at start: ${loadavg().map((load) => load.toFixed(2)).join(', ')}`);
  await client.exec(`
    CREATE SCHEMA ck_stage;
    CREATE TABLE ck_stage.final_rows AS
      SELECT 'import'::text AS source_system, 'file'::text AS source_instance, 'hour'::text AS granularity,
             timestamptz '2026-01-01 00:00+00' + (i % 8760) * interval '1 hour' AS bucket_start,
             'openai'::text AS provider, 'gpt-4o'::text AS model, ''::text AS account, ''::text AS api_key,
             'u' || (i / 8760) AS user_id, '{}'::jsonb AS labels,
             (100 + i % 9000)::bigint AS input_tokens, (10 + i % 700)::bigint AS output_tokens,
             CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 50)::bigint END AS cached_read_tokens,
             NULL::bigint AS cached_write_tokens, NULL::bigint AS cached_write_1h_tokens, NULL::bigint AS reasoning_tokens,
             1::bigint AS requests, round(((100 + i % 9000) * 25 + (10 + i % 700) * 100) / 10000000.0, 7) AS cost_usd,
             'provider'::text AS cost_source, 'exact'::text AS measurement_basis, NULL::text AS price_ref, NULL::text AS unpriced_reason
      FROM generate_series(0, ${rows - 1}) AS i;
    ANALYZE ck_stage.final_rows;`);
  for (const design of designs) {
    await client.exec(`CREATE SCHEMA ${schemaOf(design)}`);
    await design.setup(client);
  }
  console.log(`${rows.toLocaleString('en')} final rows (every row its own hourly cell, ${Math.ceil(rows / 8760)} users × 8,760 hours), ${rounds} rounds in turns`);

  const figures = new Map<string, { first: { wall: number; cpu: number }[]; replace: { wall: number; cpu: number }[]; read: { wall: number; cpu: number }[] }>();
  for (const design of designs) figures.set(design.name, { first: [], replace: [], read: [] });
  for (let round = 0; round < rounds; round++) {
    for (const design of designs) {
      const figure = figures.get(design.name);
      if (!figure) continue;
      await client.exec(design.truncate);
      await client.exec('CHECKPOINT');
      figure.first.push(await timed(design.firstWrite));
      for (const relation of design.relations) await client.exec(`ANALYZE ${relation}`);
      figure.replace.push(await timed(design.replace));
      figure.read.push(await timed([design.read]));
      process.stdout.write(`  round ${round + 1} ${design.name}: first ${fmt(figure.first.at(-1)?.wall ?? 0, 2)} s, replace ${fmt(figure.replace.at(-1)?.wall ?? 0, 2)} s (load ${loadavg()[0]?.toFixed(2)})\n`);
    }
  }

  console.log('\n| design | first write: wall / backend CPU (s) | replacement upsert: wall / backend CPU (s) | read a year by day and user (ms) | table + indexes after |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const design of designs) {
    const figure = figures.get(design.name);
    if (!figure) continue;
    const sizes: string[] = [];
    for (const relation of design.relations) {
      const indexRows = await client.query<{ name: string; bytes: string }>(
        `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid)::text AS bytes FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`,
        [relation],
      );
      const [table] = await client.query<{ bytes: string; count: string }>(`SELECT pg_table_size($1::regclass)::text AS bytes, (SELECT count(*) FROM ${relation})::text AS count`, [relation]);
      sizes.push(
        `${relation.split('.')[1]} ${Number(table?.count).toLocaleString('en')} rows ${fmt(Number(table?.bytes) / 2 ** 20, 0)} MB; ${indexRows.map((index) => `${index.name.split('.')[1]} ${fmt(Number(index.bytes) / 2 ** 20, 0)} MB`).join(', ')}`,
      );
    }
    const cell = (values: { wall: number; cpu: number }[]) => `${fmt(median(values.map((value) => value.wall)), 2)} / ${fmt(median(values.map((value) => value.cpu)), 2)}`;
    console.log(`| ${design.name} | ${cell(figure.first)} | ${cell(figure.replace)} | ${fmt(median(figure.read.map((value) => value.wall)) * 1000, 0)} | ${sizes.join('; ')} |`);
  }
  console.log(`load average at end: ${loadavg().map((load) => load.toFixed(2)).join(', ')}`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await dropAll();
  await store.close();
}
process.exit(exitCode);
