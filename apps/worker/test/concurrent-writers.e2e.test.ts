import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const ROWS = 5_000;

/** A CSV of `rows` distinct cells (model × day), each input_tokens = base + its index. */
async function usageFile(workdir: string, name: string, rows: number, base: number, order: 'forward' | 'reverse' = 'forward'): Promise<string> {
  const lines = ['bucket_start,provider,model,input_tokens'];
  for (let step = 0; step < rows; step++) {
    // Rows in the opposite order lock the same cells in the opposite order: the recipe for a deadlock.
    const index = order === 'forward' ? step : rows - 1 - step;
    const day = new Date(Date.UTC(2026, 0, 1) + Math.floor(index / 500) * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${day},openai,m${index % 500},${base + index}`);
  }
  const file = path.join(workdir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe.each(backends())('two writers at once on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;
  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  async function count(sql: string): Promise<number> {
    const store = await database.open();
    try {
      const [row] = await store.client.query<{ n: number }>(sql.replaceAll('utt_schema', `"${store.schema}"`));
      return Number(row?.n);
    } finally {
      await store.close();
    }
  }

  it('two imports of different files at once: both exit 0 and every row of both is stored', { timeout: 180_000 }, async () => {
    const config = await writeConfig(workdir, database.databaseYaml, '');
    await usageFile(workdir, 'a.csv', ROWS, 1);
    await usageFile(workdir, 'b.csv', ROWS, 1);
    const [first, second] = await Promise.all([
      runCli(['import', 'a.csv', '--config', config], { cwd: workdir, env: database.env }),
      runCli(['import', 'b.csv', '--config', config], { cwd: workdir, env: database.env }),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    // Before the lock, two processes on one PGlite folder both reported success and lost rows.
    expect(await count(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toBe(2 * ROWS);
    expect(await count(`SELECT count(*)::int AS n FROM utt_schema.token_usage WHERE source_instance = 'a.csv'`)).toBe(ROWS);
    expect(await count(`SELECT sum(input_tokens)::int AS n FROM utt_schema.token_usage`)).toBe(ROWS * (ROWS + 1));
    if (backend.name === 'pglite') {
      // One of them waited for the other, and said so.
      expect(first.stderr + second.stderr).toMatch(/waiting: the embedded database at .* is in use by utt import \(pid \d+/);
    }
  });

  it('two imports into one instance at once: no deadlock, and the result is one file, not a mix', { timeout: 180_000 }, async () => {
    const config = await writeConfig(workdir, database.databaseYaml, '');
    await usageFile(workdir, 'a.csv', ROWS, 1);
    await usageFile(workdir, 'b.csv', ROWS, 1_000_000, 'reverse');
    const [first, second] = await Promise.all([
      runCli(['import', 'a.csv', '--instance', 'shared', '--config', config], { cwd: workdir, env: database.env }),
      runCli(['import', 'b.csv', '--instance', 'shared', '--config', config], { cwd: workdir, env: database.env }),
    ]);
    expect(first.stderr + second.stderr).not.toContain('deadlock');
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toBe(ROWS);
    const fromB = await count(`SELECT count(*)::int AS n FROM utt_schema.token_usage WHERE input_tokens >= 1000000`);
    expect([0, ROWS]).toContain(fromB);
  });

  it('a watchdog run during an import gets an answer, not an aborted database', { timeout: 180_000 }, async () => {
    const config = await writeConfig(workdir, database.databaseYaml, '');
    await usageFile(workdir, 'a.csv', 2_000, 1);
    const importing = runCli(['import', 'a.csv', '--config', config], { cwd: workdir, env: database.env });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const watchdog = await runCli(['watchdog', '--config', config], { cwd: workdir, env: database.env });
    const imported = await importing;
    expect(imported.code, imported.stderr).toBe(0);
    expect(watchdog.stderr).not.toMatch(/Aborted|could not open the embedded PGlite database/);
    // No source has reported yet, so the heartbeat is stale: exit 2 with a table, never a crash.
    expect(watchdog.code, watchdog.stderr).toBe(2);
    expect(watchdog.stdout).toContain('__heartbeat__');
    expect(await count(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toBe(2_000);
  });
});
