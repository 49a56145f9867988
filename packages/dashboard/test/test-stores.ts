import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type UsageStore } from '@utt/postgres';

/** PGlite always; PostgreSQL too when UTT_TEST_DATABASE_URL is set (CI sets it). */
export type TestBackendName = 'pglite' | 'postgres';

export const TEST_DATABASE_URL = process.env.UTT_TEST_DATABASE_URL || undefined;
export const TEST_BACKEND_NAMES: readonly TestBackendName[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

if (!TEST_DATABASE_URL) {
  console.info('@utt/dashboard: PostgreSQL runs are skipped because UTT_TEST_DATABASE_URL is not set; PGlite runs.');
}

export type TestStore = { store: UsageStore; dispose(): Promise<void> };

/** A migrated store in a fresh PGlite folder or a fresh schema on the test server. */
export async function openTestStore(backend: TestBackendName): Promise<TestStore> {
  if (backend === 'postgres') {
    const schema = `utt_dash_${randomBytes(5).toString('hex')}`;
    const store = await openStore({ url: TEST_DATABASE_URL, schema });
    return {
      store,
      async dispose() {
        await store.client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await store.close();
      },
    };
  }
  const root = await mkdtemp(join(tmpdir(), 'utt-dashboard-test-'));
  const store = await openStore({ path: join(root, 'data'), schema: 'utt' });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
