import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type Result = { code: number; stdout: string; stderr: string };

/** Runs a command as a user's shell would: no vitest or turbo variables leak into the child. */
function sh(command: string, args: readonly string[], cwd: string): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST$|NODE_ENV$|TURBO_|npm_)/.test(name)));
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd, env: { ...env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// The README's first command, `pnpm install && pnpm start`, on what a fresh
// clone holds: the repository's files without anything built (no dist/, no
// .turbo/ cache, no node_modules). The build order it depends on broke once
// with nothing else failing (the CLI's bundle inlines every package the
// worker depends on; `start` built a hand-picked list side by side). The
// packages come from pnpm's store, which installing this repository filled.
it.runIf(existsSync(path.join(ROOT, '.git')))(
  'pnpm install && pnpm start works on a fresh checkout: builds what it needs, runs the example cycle and prints the report',
  async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'utt-fresh-checkout-'));
    // Tracked files and new ones not ignored: the working tree as a commit of it would be.
    const listed = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
    expect(listed.code, listed.stderr).toBe(0);
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(path.join(ROOT, file))) continue; // deleted, not yet committed
      await mkdir(path.dirname(path.join(scratch, file)), { recursive: true });
      await copyFile(path.join(ROOT, file), path.join(scratch, file));
    }

    const install = await sh('pnpm', ['install', '--frozen-lockfile', '--offline'], scratch);
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    const start = await sh('pnpm', ['start'], scratch);
    expect(start.code, `${start.stdout.slice(-4000)}\n${start.stderr.slice(-4000)}`).toBe(0);
    expect(start.stdout).toMatch(/total priced spend \$[\d,]+\.\d\d/);
    expect(start.stdout).toContain('claude_code/dev@laptop');
  },
);
