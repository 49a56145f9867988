import { type ChildProcess, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type CliResult, makeWorkdir, REPO_ROOT, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const PAGES = ['/', '/sources', '/usage', '/reconciliation', '/agents', '/calls', '/tags', '/quotas', '/quality'];

/** Starts `utt serve`, waits for the URL it prints, and returns a way to stop it with SIGTERM. */
async function startServe(args: readonly string[], cwd: string, env: Record<string, string | undefined>) {
  let child: ChildProcess | undefined;
  const done = runCli(['serve', ...args], { cwd, env, onSpawn: (spawned) => (child = spawned) });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child?.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /utt dashboard: (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
    done.then((result) => reject(new Error(`utt serve exited ${result.code}: ${result.stderr}`)), reject);
  });
  return {
    url,
    async stop(): Promise<CliResult> {
      child?.kill('SIGTERM');
      return done;
    },
  };
}

describe.each(backends())('utt serve on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;
  let config: string;

  beforeAll(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
    const example = await readFile(path.join(REPO_ROOT, 'examples/utt.config.yaml'), 'utf8');
    const body = example
      .replace(/^database:[\s\S]*?\n\n/m, '')
      .replace('files: [data/sample-usage.csv]', `files: [${JSON.stringify(path.join(REPO_ROOT, 'examples/data/sample-usage.csv'))}]`);
    config = await writeConfig(workdir, database.databaseYaml, body);
    // What `pnpm start` does on a fresh clone: the example's transcripts and
    // provider exports beside the config, then one cycle over the example config.
    const files = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples/write-example-files.mjs'), path.join(workdir, '.utt/example-files')], { encoding: 'utf8' });
    expect(files.stderr).toBe('');
    expect(files.stdout).toMatch(/Claude Code transcripts written or extended, \d+ hours of an OpenAI usage export, \d+ billed line items/);
    const run = await runCli(['run', '--config', config], { cwd: workdir, env: database.env });
    expect(run.code).toBe(0);
    // …after recording the example applications' traffic through @utt/tracker's sink.
    const folder = /path: (".*")/.exec(database.databaseYaml)?.[1];
    const schema = /schema: (\S+)/.exec(database.databaseYaml)?.[1] ?? 'utt';
    const traffic = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples/tracker-service/record-example-traffic.mjs'), folder ? (JSON.parse(folder) as string) : path.join(workdir, 'unused'), schema], {
      env: { ...process.env, DATABASE_URL: undefined, ...database.env },
      encoding: 'utf8',
    });
    expect(traffic.stderr).toBe('');
    expect(traffic.stdout).toMatch(/^example traffic: \d+ tracked calls/);
  });
  afterAll(async () => {
    await database?.cleanup();
    await removeWorkdir(workdir);
  });

  it('shows the example data on every page, then stops cleanly on SIGTERM', async () => {
    const serve = await startServe(['--config', config, '--port', '0'], workdir, database.env);
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const page of PAGES) {
      const response = await fetch(new URL(page, serve.url));
      expect(response.status, page).toBe(200);
      expect(await response.text(), page).toContain('Times and days in <strong>UTC</strong>');
    }
    // The sample CSV's models and the subscription plans are on the pages.
    const usage = await (await fetch(new URL('/usage?by=model&from=2026-01-01&to=2026-12-31&format=csv', serve.url))).text();
    expect(usage).toContain('claude-sonnet-4-5');
    expect(usage).toContain('gpt-5');
    // The example traffic: calls with tags, the tag split, the piggybacked quota windows, the budgets.
    const calls = (await (await fetch(new URL('/api/v1/calls?limit=5', serve.url))).json()) as { calls: unknown[]; summary: { calls: number; incompleteCalls: number } };
    expect(calls.calls).toHaveLength(5);
    expect(calls.summary.calls).toBeGreaterThan(100);
    const tags = (await (await fetch(new URL('/api/v1/tags?key=tenant', serve.url))).json()) as { values: { value: string | null }[] };
    expect(tags.values.map((value) => value.value)).toEqual(expect.arrayContaining(['acme', 'globex', 'initech', null]));
    const quotas = (await (await fetch(new URL('/api/v1/quotas', serve.url))).json()) as { windows: { account: string; window: string; stale: boolean }[] };
    expect(quotas.windows).toEqual(expect.arrayContaining([expect.objectContaining({ account: 'research-agent', window: '5h', stale: false })]));
    const budgets = (await (await fetch(new URL('/api/v1/budgets', serve.url))).json()) as { budgets: { budget: string }[] };
    expect(budgets.budgets.map((line) => line.budget)).toEqual(expect.arrayContaining(['research-agent-monthly', 'research-agent-daily']));
    // The example transcripts on Coding agents, the example bill against its usage on Reconciliation.
    const agents = await (await fetch(new URL('/agents?format=csv', serve.url))).text();
    expect(agents).toMatch(/^dev@laptop,claude_code,'-home-dev-src-[a-z-]+,claude-sonnet-4-5,\d+/m);
    const reconciliation = (await (await fetch(new URL('/api/v1/reconciliation', serve.url))).json()) as { rows: { sourceSystem: string; provider: string; billedUsd: string | null; computedUsd: string | null }[] };
    const billed = reconciliation.rows.filter((row) => row.sourceSystem === 'manual' && row.provider === 'openai' && row.billedUsd !== null && row.computedUsd !== null);
    expect(billed.length).toBeGreaterThan(5);
    // Most days the bill is exactly the usage at the example's prices.
    expect(billed.filter((row) => row.billedUsd === row.computedUsd).length).toBeGreaterThan(billed.length / 2);
    const sources = await (await fetch(new URL('/api/v1/freshness', serve.url))).json();
    expect(JSON.stringify(sources)).toContain('"source":"sample-csv"');
    const stopped = await serve.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toBe('');
  });

  it('refuses a non-loopback address without UTT_SERVE_TOKEN, and serves with one', async () => {
    const refused = await runCli(['serve', '--config', config, '--host', '0.0.0.0', '--port', '0'], { cwd: workdir, env: database.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to serve the dashboard on 0.0.0.0 without a token: set UTT_SERVE_TOKEN');
    const token = 'e2e-serve-token-0123456789abcdef';
    const serve = await startServe(['--config', config, '--host', '0.0.0.0', '--port', '0'], workdir, { ...database.env, UTT_SERVE_TOKEN: token });
    const port = new URL(serve.url).port;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const stopped = await serve.stop();
    expect(stopped.stdout).not.toContain(token);
    expect(stopped.code).toBe(0);
  });
});
