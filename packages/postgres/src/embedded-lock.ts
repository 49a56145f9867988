import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { UttError } from '@utt/core';

/** Who holds an embedded database folder, as written in its lock file. */
export type EmbeddedLockHolder = {
  readonly pid: number;
  readonly host: string;
  /** What the holder is doing, e.g. `utt import` (never its arguments: they can hold a URL or path with a secret). */
  readonly command: string;
  readonly since: string;
};

export type EmbeddedLock = {
  readonly path: string;
  release(): Promise<void>;
};

export const DEFAULT_EMBEDDED_LOCK_WAIT_MS = 10 * 60_000;
const POLL_MS = 200;

/** The lock file of an embedded database folder: beside it, so PGlite's own files stay untouched. */
export function embeddedLockPath(dataDir: string): string {
  return `${dataDir.replace(/[\\/]+$/, '')}.lock`;
}

/** The current holder of a folder's lock, or undefined when it is free (or held by a process that is gone). */
export async function readEmbeddedLockHolder(dataDir: string): Promise<EmbeddedLockHolder | undefined> {
  const holder = await readHolder(embeddedLockPath(dataDir));
  return holder && isAlive(holder) ? holder : undefined;
}

/**
 * Takes the one-writer lock of an embedded PGlite folder. PGlite is one
 * process per folder: a second process opening it loses rows silently or
 * aborts. The lock file (created exclusively, holding pid, host, command and
 * start time) makes the second process wait for the first, saying so once
 * through `onWait`, and give up after `waitMs` with a message naming the
 * holder. A lock left by a process that no longer exists (kill -9) is taken
 * over. Released by `release()` or, at the latest, when the process exits.
 */
export async function acquireEmbeddedLock(
  dataDir: string,
  options: { command?: string; waitMs?: number; onWait?: (message: string) => void } = {},
): Promise<EmbeddedLock> {
  const path = embeddedLockPath(dataDir);
  const waitMs = options.waitMs ?? DEFAULT_EMBEDDED_LOCK_WAIT_MS;
  const me: EmbeddedLockHolder = { pid: process.pid, host: hostname(), command: options.command ?? 'utt', since: new Date().toISOString() };
  await mkdir(dirname(path), { recursive: true });
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder === undefined || !isAlive(holder)) {
      // Left behind by a process that is gone, or a holder that is still
      // writing its details: take over only a lock that is provably stale.
      if (holder !== undefined || (await lockAgeMs(path)) > 5_000) await removeIfUnchanged(path, holder);
      else await sleep(POLL_MS);
      continue;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= waitMs) throw new EmbeddedDatabaseBusyError(dataDir, holder, waitMs);
    if (!announced) {
      announced = true;
      options.onWait?.(
        `the embedded database at ${dataDir} is in use by ${describeHolder(holder)}; waiting up to ${formatWait(waitMs)} for it to finish (PGlite allows one process per folder)`,
      );
    }
    await sleep(Math.min(POLL_MS, waitMs - elapsed));
  }

  let released = false;
  const releaseSync = () => {
    if (released) return;
    released = true;
    try {
      if (readHolderSync(path)?.pid === process.pid) unlinkSync(path);
    } catch {
      // Already gone.
    }
  };
  process.once('exit', releaseSync);
  return {
    path,
    async release() {
      process.off('exit', releaseSync);
      releaseSync();
    },
  };
}

const BUSY_NAME = 'UTT_EmbeddedDatabaseBusyError';
const BUSY_MARKER = `utt.error.${BUSY_NAME}`;
const BUSY_SYMBOL = Symbol.for(BUSY_MARKER);

/** The embedded database stayed in use by another process for longer than the wait allowed. */
export class EmbeddedDatabaseBusyError extends UttError {
  private readonly [BUSY_SYMBOL] = true;
  readonly holder: EmbeddedLockHolder;

  constructor(dataDir: string, holder: EmbeddedLockHolder, waitMs: number) {
    super({
      name: BUSY_NAME,
      message:
        `the embedded database at ${dataDir} is busy: ${describeHolder(holder)} has used it for longer than the ${formatWait(waitMs)} this command waits (database.lockWait). ` +
        'Run it again when that process has finished; for processes that must run at the same time, use a PostgreSQL server (database.url).',
    });
    this.holder = holder;
  }

  static override isInstance(error: unknown): error is EmbeddedDatabaseBusyError {
    return UttError.carries(error, BUSY_MARKER);
  }
}

export function describeHolder(holder: EmbeddedLockHolder): string {
  return `${holder.command} (pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}, since ${holder.since})`;
}

function formatWait(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

async function readHolder(path: string): Promise<EmbeddedLockHolder | undefined> {
  try {
    return parseHolder(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function readHolderSync(path: string): EmbeddedLockHolder | undefined {
  try {
    return parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): EmbeddedLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<EmbeddedLockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, command: String(value.command ?? 'utt'), since: String(value.since ?? '') };
  } catch {
    return undefined;
  }
}

/** On this host, whether the pid still runs; a holder on another host (a shared folder) is assumed alive. */
function isAlive(holder: EmbeddedLockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockAgeMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Removes a stale lock, unless another process replaced it in the meantime. */
async function removeIfUnchanged(path: string, seen: EmbeddedLockHolder | undefined): Promise<void> {
  const now = await readHolder(path);
  if (now?.pid !== seen?.pid || now?.since !== seen?.since) return;
  await unlink(path).catch(() => {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
