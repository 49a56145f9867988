import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireEmbeddedLock, EmbeddedDatabaseBusyError, embeddedLockPath, readEmbeddedLockHolder } from './embedded-lock';

let root: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'utt-lock-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** A live process that is not this one, to stand for another utt holding the folder. */
function otherProcess(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function writeHolder(dataDir: string, pid: number, command = 'utt import'): Promise<void> {
  await writeFile(embeddedLockPath(dataDir), JSON.stringify({ pid, host: hostname(), command, since: '2026-12-06T03:00:00.000Z' }));
}

describe('the one-writer lock of an embedded database folder', () => {
  it('is taken and released, and names its holder while held', async () => {
    const dataDir = join(root, 'db');
    const lock = await acquireEmbeddedLock(dataDir, { command: 'utt run' });
    expect(JSON.parse(await readFile(embeddedLockPath(dataDir), 'utf8'))).toMatchObject({ pid: process.pid, command: 'utt run' });
    expect(await readEmbeddedLockHolder(dataDir)).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(existsSync(embeddedLockPath(dataDir))).toBe(false);
    expect(await readEmbeddedLockHolder(dataDir)).toBeUndefined();
  });

  it('makes a second process wait, says so once, and gives up with a message naming the holder', async () => {
    const dataDir = join(root, 'db');
    const holder = otherProcess();
    await writeHolder(dataDir, holder.pid as number);
    const waits: string[] = [];
    const started = Date.now();
    const error = await acquireEmbeddedLock(dataDir, { waitMs: 600, onWait: (message) => waits.push(message) }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(EmbeddedDatabaseBusyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`the embedded database at ${dataDir} is busy: utt import (pid ${holder.pid}, since 2026-12-06T03:00:00.000Z)`);
    expect((error as Error).message).toContain('database.lockWait');
    expect(waits).toEqual([
      `the embedded database at ${dataDir} is in use by utt import (pid ${holder.pid}, since 2026-12-06T03:00:00.000Z); waiting up to 0.6 s for it to finish (PGlite allows one process per folder)`,
    ]);
  });

  it('goes ahead as soon as the holder finishes', async () => {
    const dataDir = join(root, 'db');
    const holder = otherProcess();
    await writeHolder(dataDir, holder.pid as number);
    setTimeout(() => holder.kill('SIGKILL'), 300);
    const lock = await acquireEmbeddedLock(dataDir, { waitMs: 10_000 });
    expect(await readEmbeddedLockHolder(dataDir)).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock left by a process killed with -9', async () => {
    const dataDir = join(root, 'db');
    const gone = otherProcess();
    const pid = gone.pid as number;
    gone.kill('SIGKILL');
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeHolder(dataDir, pid);
    const waits: string[] = [];
    const lock = await acquireEmbeddedLock(dataDir, { waitMs: 1_000, onWait: (message) => waits.push(message) });
    expect(waits).toEqual([]);
    await lock.release();
  });
});
