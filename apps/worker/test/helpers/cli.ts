import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type UsageStore } from '@utt/postgres';
import { inject } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WORKER_ROOT = path.resolve(here, '../..');
export const REPO_ROOT = path.resolve(WORKER_ROOT, '../..');
/** The built binary: these tests run what a user runs. */
export const CLI = path.join(WORKER_ROOT, 'dist/cli.js');

export type CliResult = { code: number | null; stdout: string; stderr: string };

export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; onSpawn?: (child: ReturnType<typeof spawn>) => void; launcher?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DATABASE_URL: undefined, UTT_CONFIG: undefined, ...options.env };
    const child = spawn(process.execPath, [options.launcher ?? CLI, ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

export type Backend = {
  readonly name: 'pglite' | 'postgres';
  /** The `database:` block for a config file, and env for the CLI. */
  setup(workdir: string): { databaseYaml: string; env: Record<string, string>; open(): Promise<UsageStore>; cleanup(): Promise<void> };
};

let schemaCounter = 0;

/** PGlite always; a real PostgreSQL server when UTT_TEST_DATABASE_URL is set (CI sets it). */
export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'pglite',
      setup(workdir) {
        const dbPath = path.join(workdir, 'db');
        cpSync(inject('pgliteTemplate'), dbPath, { recursive: true });
        return {
          databaseYaml: `database:\n  path: ${JSON.stringify(dbPath)}\n  schema: utt\n`,
          env: {},
          open: () => openStore({ path: dbPath, schema: 'utt' }),
          cleanup: async () => {},
        };
      },
    },
  ];
  const url = process.env.UTT_TEST_DATABASE_URL;
  if (url) {
    list.push({
      name: 'postgres',
      setup() {
        const schema = `utt_cli_${process.pid}_${++schemaCounter}`;
        return {
          databaseYaml: `database:\n  schema: ${schema}\n`,
          env: { DATABASE_URL: url },
          open: () => openStore({ url, schema }),
          cleanup: async () => {
            const store = await openStore({ url, schema, migrate: false });
            await store.client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
            await store.close();
          },
        };
      },
    });
  } else {
    console.warn('UTT_TEST_DATABASE_URL is not set: CLI end-to-end tests run on PGlite only (CI runs them on PostgreSQL too)');
  }
  return list;
}

export async function makeWorkdir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'utt-cli-'));
  // A third-party adapter installed in the operator's project, as `npm install utt-adapter-fixture` would.
  await cp(path.join(here, '../fixtures/utt-adapter-fixture'), path.join(dir, 'node_modules/utt-adapter-fixture'), { recursive: true });
  return dir;
}

export async function writeConfig(workdir: string, databaseYaml: string, body: string, name = 'utt.config.yaml'): Promise<string> {
  const file = path.join(workdir, name);
  await writeFile(file, `${databaseYaml}${body}`);
  return file;
}

export async function removeWorkdir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
