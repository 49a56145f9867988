import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL server of a test's own, on a free loopback port, for fault
 * tests that stop, restart or freeze it (which the shared test server must
 * not be). Started the way .ci/run starts CI's: initdb + pg_ctl, as the
 * `postgres` user when running as root.
 */
export type ScratchPostgres = {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop`: `fast` ends sessions cleanly, `immediate` like a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
};

/** The newest installed PostgreSQL's bin folder, or undefined when none is installed (the caller skips). */
export function findPostgresBin(): string | undefined {
  const configured = process.env.UTT_PG_BIN;
  if (configured) return existsSync(join(configured, 'initdb')) ? configured : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export async function startScratchPostgres(bin: string): Promise<ScratchPostgres> {
  const directory = await mkdtemp(join(tmpdir(), 'utt-scratch-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(directory, uid, -1);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: directory }) : run(join(bin, tool), args, { cwd: directory });
  const port = await freePort();
  const data = join(directory, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${directory} -h 127.0.0.1 -c fsync=off -c max_connections=40`;
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(directory, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async destroy() {
      await stop('immediate').catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
