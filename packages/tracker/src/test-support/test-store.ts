import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type UsageStore } from '@utt/postgres';

/** Where the tracker's store tests run: PGlite always, PostgreSQL when UTT_TEST_DATABASE_URL is set. */
export const STORE_BACKENDS: ReadonlyArray<{ name: 'pglite' | 'postgres'; url?: string }> = [
  { name: 'pglite' },
  ...(process.env.UTT_TEST_DATABASE_URL ? [{ name: 'postgres' as const, url: process.env.UTT_TEST_DATABASE_URL }] : []),
];

if (!process.env.UTT_TEST_DATABASE_URL) {
  console.info('@utt/tracker: real-PostgreSQL tests are skipped because UTT_TEST_DATABASE_URL is not set; PGlite still runs.');
}

/** A fresh, migrated store (its own PGlite folder or schema) and how to remove it. */
export async function openTestStore(backend: { name: 'pglite' | 'postgres'; url?: string }, url = backend.url): Promise<{ store: UsageStore; schema: string; dispose(): Promise<void> }> {
  const schema = `utt_tracker_${randomBytes(5).toString('hex')}`;
  if (backend.name === 'postgres' && url) {
    const store = await openStore({ url, schema });
    return {
      store,
      schema,
      async dispose() {
        await store.client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
        await store.close();
      },
    };
  }
  const root = await mkdtemp(join(tmpdir(), 'utt-tracker-'));
  const store = await openStore({ path: join(root, 'data'), schema });
  return {
    store,
    schema,
    async dispose() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
