import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { openStore, type StoreOptions } from '../open-store';
import type { UsageStore } from '../usage-store';
import { testDatabaseUrl } from './test-database-url';

/** A database the suites run against: PGlite always, PostgreSQL when UTT_TEST_DATABASE_URL is set. */
export type TestBackend = {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, isolated location: its own PGlite folder, or a unique schema on the server. */
  createLocation(): Promise<TestLocation>;
};

export type TestLocation = {
  /** What openStore needs to reach this location (url or path, and schema). */
  readonly options: StoreOptions & { readonly schema: string };
  /** Drops the schema or deletes the folder. Close every store on it first. */
  dispose(): Promise<void>;
};

/** For `describe.each(TEST_BACKENDS)`. */
export const TEST_BACKENDS: readonly TestBackend[] = [pgliteBackend(), ...postgresBackends()];

function uniqueSchema(): string {
  return `utt_test_${randomBytes(6).toString('hex')}`;
}

function pgliteBackend(): TestBackend {
  return {
    name: 'pglite',
    async createLocation() {
      const root = await mkdtemp(join(tmpdir(), 'utt-pglite-test-'));
      const path = join(root, 'data');
      await cp(inject('pgliteTemplate'), path, { recursive: true });
      return {
        options: { path, schema: uniqueSchema() },
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  };
}

function postgresBackends(): TestBackend[] {
  const url = testDatabaseUrl();
  if (url === undefined) return [];
  return [
    {
      name: 'postgres',
      async createLocation() {
        const schema = uniqueSchema();
        return {
          options: { url, schema },
          async dispose() {
            const store = await openStore({ url, schema, migrate: false });
            try {
              await store.client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
            } finally {
              await store.close();
            }
          },
        };
      },
    },
  ];
}

/**
 * Opens a migrated store on a fresh location before the suite's tests and
 * cleans up after them. Returns a getter, since the store exists only once
 * beforeAll has run.
 */
export function useTestStore(backend: TestBackend): () => UsageStore {
  let store: UsageStore | undefined;
  let location: TestLocation | undefined;
  beforeAll(async () => {
    location = await backend.createLocation();
    store = await openStore(location.options);
  });
  afterAll(async () => {
    await store?.close();
    await location?.dispose();
  });
  return () => {
    if (store === undefined) throw new Error('the test store is opened in beforeAll');
    return store;
  };
}

/** Empties the three tables between tests of one suite (DELETE: on PGlite, TRUNCATE costs ~100 ms a table). */
export async function clearTables(store: UsageStore): Promise<void> {
  await store.client.exec(
    ['token_usage', 'watchdog_status', 'rollup_watermark', 'provider_cost', 'source_state', 'quota_reading', 'alert_state'].map((table) => `DELETE FROM "${store.schema}".${table};`).join('\n'),
  );
}
