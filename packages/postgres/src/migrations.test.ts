import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KEY_COLUMNS, TOKEN_COLUMNS, type TrackedCallV1 } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migration-list';
import { openStore } from './open-store';
import { runMigrations } from './run-migrations';
import { storeTables } from './schema-name';
import { TEST_BACKENDS } from './test-support/test-backends';
import { trackedCallV1 } from './test-support/tracked-call';

const migrationsFolder = fileURLToPath(new URL('../../../sql/migrations/', import.meta.url));

describe('the migration list', () => {
  it('names every file in sql/migrations, in order', () => {
    const files = readdirSync(migrationsFolder).filter((file) => file.endsWith('.sql')).sort();
    expect(MIGRATIONS.map((migration) => `${migration.name}.sql`)).toEqual(files);
  });

  it('carries each file as text with the schema placeholder', () => {
    for (const migration of MIGRATIONS) {
      expect(migration.sql).toContain('{{schema}}');
    }
  });
});

const ALL_MIGRATIONS = MIGRATIONS.map((migration) => migration.name);

describe.each(TEST_BACKENDS)('migrations on $name', (backend) => {
  it('apply once, then are a no-op', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    try {
      expect(await store.migrate()).toEqual({ applied: ALL_MIGRATIONS });
      expect(await store.migrate()).toEqual({ applied: [] });
      const rows = await store.client.query<{ name: string }>(`SELECT name FROM "${store.schema}".utt_migrations ORDER BY name`);
      expect(rows.map((row) => row.name)).toEqual(ALL_MIGRATIONS);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('say whether any are pending, without applying them', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    try {
      // No schema yet: pending, and the check created nothing.
      expect(await store.migrationsPending()).toBe(true);
      const [schema] = await store.client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [store.schema]);
      expect(schema).toBeUndefined();
      await store.migrate();
      expect(await store.migrationsPending()).toBe(false);
      // One applied migration missing (as after an upgrade brings a new one): pending again.
      await store.client.query(`DELETE FROM "${store.schema}".utt_migrations WHERE name = $1`, [ALL_MIGRATIONS[ALL_MIGRATIONS.length - 1]]);
      expect(await store.migrationsPending()).toBe(true);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('run once when two workers migrate at the same time', async () => {
    const location = await backend.createLocation();
    // PGlite is one process per folder, so its two "workers" share the store;
    // on PostgreSQL they are two pools and really race.
    const first = await openStore({ ...location.options, migrate: false });
    const second = backend.name === 'postgres' ? await openStore({ ...location.options, migrate: false }) : first;
    try {
      const results = await Promise.all([first.migrate(), second.migrate()]);
      // Each migration runs exactly once, whichever worker gets to it first.
      expect(results.flatMap((result) => result.applied).sort()).toEqual(ALL_MIGRATIONS);
    } finally {
      await first.close();
      if (second !== first) await second.close();
      await location.dispose();
    }
  });

  it('stop at a failing migration and keep the ones before it', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    const failing = { name: '9999_failing', sql: 'CREATE TABLE {{schema}}.half_done (id INT); SELECT 1 / 0;' };
    try {
      await expect(runMigrations(store.client, tables, [...MIGRATIONS, failing])).rejects.toThrow(/division by zero/);
      const rows = await store.client.query<{ name: string }>(`SELECT name FROM ${tables.migrations} ORDER BY name`);
      expect(rows.map((row) => row.name)).toEqual(ALL_MIGRATIONS);
      const [table] = await store.client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
        `${tables.schema}.half_done`,
      ]);
      expect(table?.exists).toBe(false);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('do not open a store whose schema is not migrated when migrate is false', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    try {
      const [table] = await store.client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
        `"${location.options.schema}".token_usage`,
      ]);
      expect(table?.exists).toBe(false);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('create the tables of the data model, with the conflict key core expects', async () => {
    const location = await backend.createLocation();
    const store = await openStore(location.options);
    try {
      const columns = await store.client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
        `SELECT table_name, column_name, data_type, is_nullable
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
        [store.schema],
      );
      const tokenUsage = columns.filter((column) => column.table_name === 'token_usage');
      for (const counter of TOKEN_COLUMNS) {
        expect(tokenUsage.find((column) => column.column_name === counter)).toMatchObject({ data_type: 'bigint', is_nullable: 'YES' });
      }
      expect(tokenUsage.find((column) => column.column_name === 'cost_usd')).toMatchObject({ data_type: 'numeric' });
      for (const dimension of KEY_COLUMNS) {
        expect(tokenUsage.find((column) => column.column_name === dimension)).toMatchObject({ is_nullable: 'NO' });
      }
      expect(columns.filter((column) => column.table_name === 'watchdog_status').map((column) => column.column_name)).toEqual([
        'source',
        'source_system',
        'status',
        'last_run_at',
        'last_success_at',
        'last_error',
        'rows_written',
        'updated_at',
      ]);
      expect(columns.filter((column) => column.table_name === 'rollup_watermark').map((column) => column.column_name)).toEqual([
        'source',
        'source_system',
        'granularity',
        'watermark',
        'updated_at',
      ]);

      const conflictKey = await store.client.query<{ column_name: string }>(
        `SELECT attribute.attname AS column_name
         FROM pg_constraint AS con
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS key(attnum, position)
         JOIN pg_attribute AS attribute ON attribute.attrelid = con.conrelid AND attribute.attnum = key.attnum
         WHERE con.conname = 'token_usage_conflict_key' AND con.connamespace = $1::regnamespace
         ORDER BY key.position`,
        [store.schema],
      );
      // The same columns as KEY_COLUMNS, in the order 0011 compares them.
      expect(conflictKey.map((row) => row.column_name)).toEqual([
        'source_system',
        'source_instance',
        'bucket_start',
        'model',
        'labels',
        'granularity',
        'provider',
        'account',
        'api_key',
        'user_id',
      ]);
      expect(conflictKey.map((row) => row.column_name).sort()).toEqual([...KEY_COLUMNS].sort());
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('store source_state values without pglz: lz4 where the server has it, else uncompressed (0010)', async () => {
    const location = await backend.createLocation();
    const store = await openStore(location.options);
    try {
      const [value] = await store.client.query<{ compression: string; storage: string }>(
        `SELECT attcompression::text AS compression, attstorage::text AS storage FROM pg_attribute
         WHERE attrelid = $1::regclass AND attname = 'value'`,
        [`"${store.schema}".source_state`],
      );
      // 'l': lz4; 'e': external (out of line, never compressed), PGlite having no lz4.
      expect(value?.compression === 'l' || (value?.compression === '' && value.storage === 'e'), JSON.stringify(value)).toBe(true);
      // A large value still reads back whole.
      const large = 'a1b2c3d4'.repeat(4_000);
      await store.writeSourceWindow({ source: 'state-size', sourceSystem: 'state_test', rows: [], state: { set: new Map([['big', large]]), deleted: [] } });
      expect((await store.loadSourceState('state-size')).get('big')).toBe(large);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('index the unpriced rows of a populated schema, and only those (0015), then drop the index no query reads (0017)', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    try {
      const before = MIGRATIONS.filter((migration) => migration.name < '0015');
      await runMigrations(store.client, tables, before);
      await store.client.query(
        `INSERT INTO ${tables.tokenUsage} (source_system, granularity, bucket_start, provider, model, input_tokens, output_tokens, cost_usd, cost_source, unpriced_reason, measurement_basis)
         SELECT 'populated', 'hour', timestamptz '2026-10-01T00:00:00Z' + make_interval(hours => hour), 'fakeai', 'alpha', hour, 1,
                CASE WHEN hour % 4 = 0 THEN NULL ELSE 0.5 END, CASE WHEN hour % 4 = 0 THEN NULL ELSE 'computed' END,
                CASE WHEN hour % 8 = 0 THEN 'no_price' END, 'exact'
         FROM generate_series(0, 99) AS hour`,
      );
      expect((await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0016'))).applied).toEqual(['0015_unpriced_rows_index']);
      // With the table's scans off, the unpriced rows come from the index: all 25 of them, and nothing else.
      const counted = await store.client.transaction(async (transaction) => {
        await transaction.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
        const plan = await transaction.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT count(*) FROM ${tables.tokenUsage} WHERE cost_usd IS NULL`);
        expect(plan.map((line) => line['QUERY PLAN']).join('\n')).toMatch(/Index Only Scan using token_usage_unpriced_idx/);
        return transaction.query<{ rows: number; reasons: number; tokens: number }>(
          `SELECT count(*)::int AS rows, count(unpriced_reason)::int AS reasons, sum(input_tokens + output_tokens)::int AS tokens
           FROM ${tables.tokenUsage} WHERE cost_usd IS NULL`,
        );
      });
      expect(counted).toEqual([{ rows: 25, reasons: 13, tokens: 1_200 + 25 }]);
      // 0017 drops it again: the listing reads the roll-ups now, and nothing reads the index.
      await runMigrations(store.client, tables, MIGRATIONS);
      const indexes = await store.client.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'token_usage'`, [store.schema]);
      expect(indexes.map((index) => index.indexname)).not.toContain('token_usage_unpriced_idx');
      expect(indexes.length).toBeGreaterThan(0);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('keep the roll-ups of an INSERT with one trigger, one pass over the new rows (0012)', async () => {
    const location = await backend.createLocation();
    const store = await openStore(location.options);
    try {
      const triggers = await store.client.query<{ name: string; events: string }>(
        `SELECT tgname AS name, CASE WHEN tgtype & 4 <> 0 THEN 'insert' WHEN tgtype & 16 <> 0 THEN 'update' WHEN tgtype & 8 <> 0 THEN 'delete' ELSE 'truncate' END AS events
         FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`,
        [`"${store.schema}".token_usage`],
      );
      // 0018's count per price_ref is a trigger of its own, run after the roll-ups' (triggers fire in name order).
      expect(triggers.filter((trigger) => trigger.events === 'insert').map((trigger) => trigger.name)).toEqual([
        'token_usage_daily_detail_insert',
        'token_usage_price_ref_rows_insert',
      ]);
      expect(triggers.filter((trigger) => trigger.events !== 'insert')).toHaveLength(6 + 3);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('count the computed rows per source and price_ref of a populated schema (0018)', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    try {
      await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0018'));
      await store.client.query(
        `INSERT INTO ${tables.tokenUsage} (source_system, source_instance, granularity, bucket_start, provider, model, input_tokens, output_tokens,
                                          cost_usd, cost_source, price_ref, unpriced_reason, measurement_basis)
         SELECT CASE WHEN hour % 2 = 0 THEN 'even' ELSE 'odd' END, '', 'hour', timestamptz '2026-10-01T00:00:00Z' + make_interval(hours => hour),
                'fakeai', 'alpha', hour, 1,
                CASE WHEN hour % 5 = 0 THEN NULL ELSE 0.5 END,
                CASE WHEN hour % 5 = 0 THEN NULL WHEN hour % 5 = 1 THEN 'provider' ELSE 'computed' END,
                CASE WHEN hour % 5 = 0 THEN NULL WHEN hour % 3 = 0 THEN 'genai-prices@0.1.7:fakeai/alpha' ELSE 'genai-prices@0.1.8:fakeai/alpha' END,
                CASE WHEN hour % 5 = 0 THEN 'no_price' END, 'exact'
         FROM generate_series(0, 99) AS hour`,
      );
      expect((await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0019'))).applied).toEqual(['0018_price_ref_rows']);
      const kept = await store.client.query(
        `SELECT source_system, price_ref, row_count::int AS row_count FROM "${store.schema}".token_usage_price_ref_rows ORDER BY 1, 2`,
      );
      const raw = await store.client.query(
        `SELECT source_system, price_ref, count(*)::int AS row_count FROM ${tables.tokenUsage}
         WHERE cost_source = 'computed' AND price_ref IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      expect(raw).toHaveLength(4);
      expect(kept).toEqual(raw);
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it("move a provider's UTC day rows to their calendar date in the kept zones of a populated schema, and keep them there (0020)", async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    const days = (zone: string) =>
      store.client.query<{ rollup: string; day: string; input_tokens: number }>(
        `SELECT 'detail' AS rollup, day::text AS day, sum(input_tokens)::int AS input_tokens FROM ${tables.tokenUsageDailyDetail} WHERE time_zone = $1 GROUP BY 1, 2
         UNION ALL SELECT 'by_user', day::text, sum(input_tokens)::int FROM ${tables.tokenUsageDailyByUser} WHERE time_zone = $1 GROUP BY 1, 2
         ORDER BY 1, 2`,
        [zone],
      );
    const write = (bucketStart: string, granularity: string, input: number) =>
      store.client.query(
        `INSERT INTO ${tables.tokenUsage} (source_system, granularity, bucket_start, provider, model, input_tokens, measurement_basis)
         VALUES ('openai_api', $2, $1, 'openai', 'm1', $3, 'exact')`,
        [bucketStart, granularity, input],
      );
    try {
      await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0019'));
      await store.client.query(`INSERT INTO ${tables.tokenUsageRollupZones} (time_zone) VALUES ('America/Los_Angeles'), ('Asia/Tokyo')`);
      // Day rows of the 14th and 15th, and an hour that starts late on the 15th in Los Angeles (early on the 16th in UTC).
      await write('2025-10-14T00:00:00Z', 'day', 1);
      await write('2025-10-15T00:00:00Z', 'day', 10);
      await write('2025-10-16T06:00:00Z', 'hour', 100);
      expect((await days('America/Los_Angeles')).filter((row) => row.rollup === 'detail')).toEqual([
        { rollup: 'detail', day: '2025-10-13', input_tokens: 1 },
        { rollup: 'detail', day: '2025-10-14', input_tokens: 10 },
        { rollup: 'detail', day: '2025-10-15', input_tokens: 100 },
      ]);
      const utcBefore = await days('UTC');
      const tokyoBefore = await days('Asia/Tokyo');

      expect((await runMigrations(store.client, tables, MIGRATIONS)).applied).toEqual(['0020_day_rows_on_their_date']);
      const losAngeles = [
        { day: '2025-10-14', input_tokens: 1 },
        { day: '2025-10-15', input_tokens: 110 },
      ];
      const both = (rows: { day: string; input_tokens: number }[]) => [
        ...rows.map((row) => ({ rollup: 'by_user', ...row })),
        ...rows.map((row) => ({ rollup: 'detail', ...row })),
      ];
      expect(await days('America/Los_Angeles')).toEqual(both(losAngeles));
      // East of UTC a UTC midnight is already on its own date, and UTC's days are UTC dates: unchanged.
      expect(await days('UTC')).toEqual(utcBefore);
      expect(await days('Asia/Tokyo')).toEqual(tokyoBefore);
      // Only the day rows were moved, and what is left equals both roll-ups summed afresh from the raw rows.
      const rollups = async () => ({
        detail: await store.client.query(`SELECT * FROM ${tables.tokenUsageDailyDetail} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15`),
        byUser: await store.client.query(`SELECT * FROM ${tables.tokenUsageDailyByUser} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11`),
      });
      const migrated = await rollups();
      await store.client.exec(`TRUNCATE ${tables.tokenUsageDailyDetail}, ${tables.tokenUsageDailyByUser}`);
      await store.client.exec(`DO $recount$ BEGIN
        EXECUTE "${store.schema}".token_usage_daily_detail_apply('SELECT 1 AS sign, * FROM ${tables.tokenUsage}');
      END $recount$`);
      expect(await rollups()).toEqual(migrated);

      // The triggers keep the new rule: an insert, an update that moves a day row, a delete.
      await write('2025-10-16T00:00:00Z', 'day', 1000);
      await store.client.query(`UPDATE ${tables.tokenUsage} SET bucket_start = '2025-10-17T00:00:00Z' WHERE input_tokens = 1`);
      await store.client.query(`DELETE FROM ${tables.tokenUsage} WHERE input_tokens = 10`);
      expect(await days('America/Los_Angeles')).toEqual(
        both([
          { day: '2025-10-15', input_tokens: 100 },
          { day: '2025-10-16', input_tokens: 1000 },
          { day: '2025-10-17', input_tokens: 1 },
        ]),
      );
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('keep every stored tracked call through 0013, then store calls that share a reused response id', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    const before0013 = MIGRATIONS.findIndex((migration) => migration.name === '0013_response_identity');
    const longId = 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT';
    const trackedCall = (responseId: string, inputTokens = 10): TrackedCallV1 =>
      trackedCallV1({ sourceSystem: 'chat-api', provider: 'ollama', model: 'llama3', inputTokens, outputTokens: 1, latencyMs: 5, responseId, costUsd: null, priceRef: null, unpricedReason: 'no_price' });
    const stored = async () =>
      (await store.client.query<{ event_id: string }>(`SELECT event_id::text FROM ${tables.trackedCall} ORDER BY event_id`)).map((row) => row.event_id);
    try {
      // Today's write path also reads 0014's prune horizon and 0016's carry column, which do not depend on 0013: applied here first.
      const horizon = MIGRATIONS.filter((migration) => migration.name === '0014_tracked_call_prune_horizon' || migration.name === '0016_usage_unknown_calls');
      await runMigrations(store.client, tables, [...MIGRATIONS.slice(0, before0013), ...horizon]);
      // Under 0006's index a reused id kept out the second call.
      await store.writeTrackedCalls([trackedCall('chatcmpl-1'), trackedCall(longId), trackedCall('chatcmpl-2')]);
      await store.writeTrackedCalls([trackedCall('chatcmpl-1', 20)]);
      const kept = await stored();
      expect(kept).toHaveLength(3);

      expect((await store.migrate()).applied).toEqual(MIGRATIONS.slice(before0013).filter((migration) => !horizon.includes(migration)).map((migration) => migration.name));
      expect(await stored()).toEqual(kept);
      const indexes = await store.client.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tracked_call' ORDER BY 1`, [store.schema]);
      expect(indexes.map((index) => index.name)).toContain('tracked_call_response_key');
      expect(indexes.map((index) => index.name)).not.toContain('tracked_call_response_id_key');
      expect(await store.writeTrackedCalls([trackedCall('chatcmpl-1', 20), trackedCall('chatcmpl-2')])).toEqual({ inserted: 2, alreadyStored: 0, sameResponse: 0, refused: 0 });
      expect(await store.writeTrackedCalls([trackedCall(longId), trackedCall(longId, 11)])).toEqual({ inserted: 1, alreadyStored: 0, sameResponse: 1, refused: 0 });
      const [cell] = await store.client.query<{ requests: number; input_tokens: number }>(
        `SELECT requests::int, input_tokens::int FROM ${tables.tokenUsage} WHERE source_system = 'chat-api'`,
      );
      expect(cell).toEqual({ requests: 6, input_tokens: 10 + 10 + 10 + 20 + 10 + 11 });
    } finally {
      await store.close();
      await location.dispose();
    }
  });

  it('mark the cells of calls whose usage never arrived unpriced, and keep a legacy carry of such calls unpriced (0016)', async () => {
    const location = await backend.createLocation();
    const store = await openStore({ ...location.options, migrate: false });
    const tables = storeTables(store.schema);
    try {
      await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0016'));
      const columns = `source_system, source_instance, occurred_at, bucket_start, provider, model, input_tokens, output_tokens, usage_origin, cost_usd, price_ref, unpriced_reason`;
      // As 0015's write path left them: 2 priced calls and a cut stream in one hour, shown as $0.75; an hour pruned before 0016.
      await store.client.exec(`
        INSERT INTO ${tables.trackedCall} (event_id, ${columns}) VALUES
          ('${randomUUID()}', 'app', 'h', '2026-11-03T10:01:00Z', '2026-11-03T10:00:00Z', 'openai', 'gpt-test', 100, 10, 'response', 0.5, 'config:a', NULL),
          ('${randomUUID()}', 'app', 'h', '2026-11-03T10:02:00Z', '2026-11-03T10:00:00Z', 'openai', 'gpt-test', 50, 5, 'response', 0.25, 'config:a', NULL),
          ('${randomUUID()}', 'app', 'h', '2026-11-03T10:03:00Z', '2026-11-03T10:00:00Z', 'openai', 'gpt-test', NULL, NULL, 'unknown', NULL, NULL, 'usage_unknown'),
          ('${randomUUID()}', 'app', 'h', '2026-11-03T11:03:00Z', '2026-11-03T11:00:00Z', 'openai', 'gpt-test', 70, 7, 'response', 0.125, 'config:a', NULL);
        INSERT INTO ${tables.trackedCellCarry} (source_system, source_instance, bucket_start, provider, model, labels, input_tokens, output_tokens, requests, cost_usd, unpriced_calls, unpriced_reason, price_ref)
        VALUES ('app', 'h', '2026-11-02T10:00:00Z', 'openai', 'gpt-test', '{}', 100, 10, 2, 0.5, 0, 'usage_unknown', 'config:a');
        INSERT INTO ${tables.tokenUsage} (source_system, source_instance, granularity, bucket_start, provider, model, input_tokens, output_tokens, requests, cost_usd, cost_source, price_ref, measurement_basis) VALUES
          ('app', 'h', 'hour', '2026-11-03T10:00:00Z', 'openai', 'gpt-test', 150, 15, 3, 0.75, 'computed', 'config:a', 'exact'),
          ('app', 'h', 'hour', '2026-11-03T11:00:00Z', 'openai', 'gpt-test', 70, 7, 1, 0.125, 'computed', 'config:a', 'exact'),
          ('app', 'h', 'hour', '2026-11-02T10:00:00Z', 'openai', 'gpt-test', 100, 10, 2, 0.5, 'computed', 'config:a', 'exact');`);
      expect((await runMigrations(store.client, tables, MIGRATIONS.filter((migration) => migration.name < '0017'))).applied).toEqual(['0016_usage_unknown_calls']);
      const cells = await store.client.query<{ bucket_start: Date; cost_usd: string | null; cost_source: string | null; price_ref: string | null; unpriced_reason: string | null }>(
        `SELECT bucket_start, cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason FROM ${tables.tokenUsage} WHERE granularity = 'hour' ORDER BY bucket_start`,
      );
      expect(cells.map((cell) => ({ ...cell, bucket_start: new Date(cell.bucket_start).toISOString() }))).toEqual([
        { bucket_start: '2026-11-02T10:00:00.000Z', cost_usd: null, cost_source: null, price_ref: null, unpriced_reason: 'calls_unpriced:1/2:usage_unknown' },
        { bucket_start: '2026-11-03T10:00:00.000Z', cost_usd: null, cost_source: null, price_ref: null, unpriced_reason: 'calls_unpriced:1/3:usage_unknown' },
        { bucket_start: '2026-11-03T11:00:00.000Z', cost_usd: '0.125', cost_source: 'computed', price_ref: 'config:a', unpriced_reason: null },
      ]);
      // The budgets reading these hours still count what their priced calls cost.
      const [spend] = await store.readSpend([{ start: new Date('2026-11-02T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z'), scope: { sourceSystem: 'app' } }]);
      expect(Number(spend)).toBe(1.375);
    } finally {
      await store.close();
      await location.dispose();
    }
  });
});
