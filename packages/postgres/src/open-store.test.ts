import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PGLITE_PATH, openStore } from './open-store';
import { StoreConnectionError } from './store-connection-error';
import { testDatabaseUrl } from './test-support/test-database-url';

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('openStore', () => {
  it('refuses a schema that is not a plain identifier before connecting', async () => {
    const error = await caught(openStore({ url: 'postgres://nobody@127.0.0.1:1/none', schema: 'utt; drop' }));
    expect(ConfigValidationError.isInstance(error)).toBe(true);
    expect(error.message).toContain('database.schema');
  });

  it('refuses a URL that is not a postgres:// URL without repeating it', async () => {
    const error = await caught(openStore({ url: 'mysql://root:topsecret@localhost/db' }));
    expect(ConfigValidationError.isInstance(error)).toBe(true);
    expect(error.message).toContain('database.url: must be a postgres:// or postgresql:// URL');
    expect(error.message).not.toContain('topsecret');
  });

  it('names the server but never the password when it cannot connect', async () => {
    const error = await caught(openStore({ url: 'postgres://utt:Sup3rSecretPw@127.0.0.1:1/telemetry' }));
    expect(StoreConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toContain('could not connect to PostgreSQL at postgres://utt@127.0.0.1:1/telemetry (database.url)');
    expect(error.message).toContain('ECONNREFUSED');
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain('Sup3rSecretPw');
    expect((error as StoreConnectionError).code).toBe('ECONNREFUSED');
  });

  it.runIf(testDatabaseUrl() !== undefined)('never shows the password when the server refuses the login', async () => {
    const server = new URL(testDatabaseUrl() ?? '');
    server.username = 'utt_no_such_role';
    server.password = 'An0therSecretPw';
    const error = await caught(openStore({ url: server.toString() }));
    expect(StoreConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toContain('utt_no_such_role');
    expect(error.message).not.toContain('An0therSecretPw');
  });

  it.runIf(testDatabaseUrl() !== undefined)('calls onConnecting once the connection is started, before the store is ready', async () => {
    const events: string[] = [];
    const opening = openStore({ url: testDatabaseUrl(), migrate: false, onConnecting: () => events.push('connecting') }).then((store) => {
      events.push('open');
      return store;
    });
    const store = await opening;
    try {
      expect(events).toEqual(['connecting', 'open']);
      expect(await store.client.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await store.close();
    }
    // A server that refuses the connection: the caller heard it start, then the open fails as before.
    let heard = false;
    const error = await caught(openStore({ url: 'postgres://nobody@127.0.0.1:1/none', onConnecting: () => (heard = true) }));
    expect(heard).toBe(true);
    expect(StoreConnectionError.isInstance(error)).toBe(true);
  });

  it.runIf(testDatabaseUrl() !== undefined)('ends the session without waiting for the server when asked, and the process can exit', async () => {
    const url = new URL(testDatabaseUrl() ?? '');
    const name = `utt_close_${process.pid}_${Date.now()}`;
    url.searchParams.set('application_name', name);
    const store = await openStore({ url: url.toString(), migrate: false });
    const watcher = await openStore({ url: testDatabaseUrl(), migrate: false });
    try {
      const sessions = async () =>
        (await watcher.client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]))[0]?.n;
      await store.client.query('SELECT 1');
      expect(await sessions()).toBe(1);
      const handles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
      const before = handles();
      await store.close({ waitForServer: false });
      // The socket no longer holds the event loop open…
      expect(handles()).toBeLessThan(before);
      // …and the server was told to end the session: it goes by itself.
      const deadline = Date.now() + 5_000;
      while ((await sessions()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await sessions()).toBe(0);
    } finally {
      await watcher.close();
    }
  });

  it(`creates the PGlite folder, ${DEFAULT_PGLITE_PATH} under the working directory by default`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'utt-open-store-'));
    const previous = process.cwd();
    process.chdir(root);
    try {
      const store = await openStore();
      try {
        expect(store.client.kind).toBe('pglite');
        expect(store.schema).toBe('utt');
        expect(existsSync(join(root, DEFAULT_PGLITE_PATH, 'PG_VERSION'))).toBe(true);
        expect(await store.listStatus()).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      process.chdir(previous);
      await rm(root, { recursive: true, force: true });
    }
  });
});
