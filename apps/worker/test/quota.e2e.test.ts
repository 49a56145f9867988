import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { backends, CLI, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

// Each test runs the CLI several times; on a loaded machine a PGlite open takes seconds.
vi.setConfig({ testTimeout: 180_000 });

const TOKEN = 'sk-ant-oat01-E2E-secret-token-that-must-never-leak-0123456789';
const NOW = '2026-12-03T13:30:00Z';

/** Claude's OAuth usage endpoint and a Slack-compatible webhook, on loopback. */
type Fakes = { claudeUrl: string; webhookUrl: string; usage: { five: number; week: number }; usageCalls: number; posts: string[]; close(): Promise<void> };

async function startFakes(): Promise<Fakes> {
  const fakes = { usage: { five: 61, week: 22 }, usageCalls: 0, posts: [] as string[] } as Fakes;
  const claude: Server = createServer((request, response) => {
    if (request.url !== '/api/oauth/usage' || request.headers.authorization !== `Bearer ${TOKEN}`) {
      response.writeHead(401).end('{"error":{"type":"authentication_error"}}');
      return;
    }
    fakes.usageCalls += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        five_hour: { utilization: fakes.usage.five, resets_at: '2026-12-03T14:30:00.282668+00:00' },
        seven_day: { utilization: fakes.usage.week, resets_at: '2026-12-08T09:00:00+00:00' },
        seven_day_opus: null,
      }),
    );
  });
  const webhook: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      fakes.posts.push((JSON.parse(body) as { text: string }).text);
      response.writeHead(200).end('ok');
    });
  });
  await Promise.all([claude, webhook].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
  fakes.claudeUrl = `http://127.0.0.1:${(claude.address() as AddressInfo).port}`;
  fakes.webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T0/B0/secret-path`;
  fakes.close = async () => {
    await Promise.all([claude, webhook].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  };
  return fakes;
}

describe.each(backends())('quota monitor end to end on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup> & { spoolDirectory: string };
  let fakes: Fakes;
  let env: Record<string, string>;

  beforeAll(async () => {
    fakes = await startFakes();
  });
  afterAll(() => fakes.close());
  beforeEach(async () => {
    workdir = await makeWorkdir();
    // The statusline spool lives beside the PGlite folder, or in .utt with a server.
    database = { ...backend.setup(workdir), spoolDirectory: backend.name === 'pglite' ? 'statusline' : '.utt/statusline' };
    fakes.usage = { five: 61, week: 22 };
    fakes.usageCalls = 0;
    fakes.posts.length = 0;
    await mkdir(path.join(workdir, 'claude/projects'), { recursive: true });
    await writeFile(
      path.join(workdir, 'claude/.credentials.json'),
      JSON.stringify({ claudeAiOauth: { accessToken: TOKEN, refreshToken: 'sk-ant-ort01-refresh-secret', expiresAt: 4102444800000, subscriptionType: 'max' } }),
    );
    const sessions = path.join(workdir, 'codex/sessions/2026/12/03');
    await mkdir(sessions, { recursive: true });
    await writeFile(
      path.join(sessions, 'rollout-2026-12-03T13-00-00-e2e.jsonl'),
      `${JSON.stringify({ timestamp: '2026-12-03T13:20:00.000Z', type: 'event_msg', payload: { type: 'token_count', info: null, rate_limits: { primary: { used_percent: 97, window_minutes: 10080, resets_at: 1796731200 }, secondary: null, plan_type: 'plus' } } })}\n`,
    );
    env = { ...database.env, WEBHOOK_URL: fakes.webhookUrl };
    await writeConfig(
      workdir,
      database.databaseYaml,
      `quota:
  statusline: { source: claude-max, account: max@example.com }
alerts:
  channels:
    chat: { type: slack, url: "\${WEBHOOK_URL}" }
  rules:
    - { name: quota, type: quota-severity, minSeverity: WARNING, provider: anthropic }
sources:
  - name: claude-max
    adapter: "@utt/adapter-claude-code"
    config:
      paths: [claude/projects]
      quota: { usageEndpoint: true, credentialsFile: claude/.credentials.json, account: max@example.com, baseUrl: "${fakes.claudeUrl}" }
  - name: codex
    adapter: "@utt/adapter-codex"
    config: { paths: [codex/sessions], quota: { account: plus@example.com } }
`,
    );
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  const utt = (args: string[], now = NOW) => runCli([...args, '--now', now], { cwd: workdir, env });

  it('reads the endpoint and the logs, exits with the Nagios code, calls the endpoint once per 5 minutes across processes', async () => {
    const first = await utt(['quota', '--json']);
    // Codex's weekly window (primary, 10080 min) at 97 %: CRITICAL.
    expect(first.code).toBe(2);
    const report = JSON.parse(first.stdout) as { overall: string; windows: Array<{ provider: string; account: string; window: string; usedRatio: number; severity: string; obtainedVia: string }> };
    expect(report.overall).toBe('CRITICAL');
    expect(report.windows.map((window) => [window.account, window.window, window.usedRatio, window.severity, window.obtainedVia])).toEqual([
      ['max@example.com', '5h', 0.61, 'OK', 'endpoint'],
      ['max@example.com', '7d', 0.22, 'OK', 'endpoint'],
      ['plus@example.com', '7d', 0.97, 'CRITICAL', 'log'],
    ]);
    expect(fakes.usageCalls).toBe(1);
    // A second process 4 minutes later: the gate stored with the readings holds; no call.
    const second = await utt(['quota', '--provider', 'anthropic'], '2026-12-03T13:34:00Z');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/max@example\.com\s+5h\s+61%\s+allowed\s+OK/);
    expect(fakes.usageCalls).toBe(1);
    await utt(['quota', '--provider', 'anthropic'], '2026-12-03T13:36:00Z');
    expect(fakes.usageCalls).toBe(2);

    // No token in any output, error or row.
    const store = await database.open();
    try {
      const dump = JSON.stringify(
        await store.client.query(
          `SELECT q.*, (SELECT json_agg(s) FROM "${store.schema}".source_state s) AS state, (SELECT json_agg(w) FROM "${store.schema}".watchdog_status w) AS status FROM "${store.schema}".quota_reading q`,
        ),
      );
      expect(dump).toContain('max@example.com');
      expect(dump).not.toContain(TOKEN);
      expect(dump).not.toContain('refresh-secret');
    } finally {
      await store.close();
    }
    for (const output of [first, second]) expect(output.stdout + output.stderr).not.toContain(TOKEN);

    // The watchdog knows the quota collection as its own source.
    const watchdog = await utt(['watchdog'], '2026-12-03T13:37:00Z');
    expect(watchdog.stdout).toMatch(/quota:claude-max\s+fresh/);
    expect(watchdog.stdout).toMatch(/quota:codex\s+fresh/);
  });

  it('writes a node_exporter textfile atomically that promtool accepts: ratios, no timestamps', async () => {
    const result = await utt(['quota', '--format', 'prometheus', '--output', 'textfile/utt.prom'].map((arg) => arg), NOW).catch(() => null);
    expect(result?.code).toBe(1); // the textfile folder does not exist yet: a fatal error, nothing half-written
    await mkdir(path.join(workdir, 'textfile'));
    const written = await utt(['quota', '--format', 'prometheus', '--output', 'textfile/utt.prom']);
    expect(written.code).toBe(2);
    expect(await readdir(path.join(workdir, 'textfile'))).toEqual(['utt.prom']);
    const text = await readFile(path.join(workdir, 'textfile/utt.prom'), 'utf8');
    expect(text).toContain('utt_quota_used_ratio{provider="openai",account="plus@example.com",window="7d"} 0.97\n');
    expect(text).toContain('utt_quota_severity{provider="openai",account="plus@example.com",window="7d"} 2\n');
    expect(text).toMatch(/^utt_quota_reset_timestamp_seconds\{provider="anthropic",account="max@example.com",window="7d"\} 1796720400$/m);
    // Every sample line is `name{labels} value`: no third field (a timestamp).
    for (const line of text.split('\n').filter((entry) => entry !== '' && !entry.startsWith('#'))) expect(line).toMatch(/^[a-z_]+\{[^}]*\} [-+0-9.e]+$/);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });

  it('utt statusline prints one line at once; the readings are stored in the background (PostgreSQL) or by the next utt quota (PGlite)', async () => {
    const input = JSON.stringify({ model: { id: 'claude-sonnet-4-5' }, rate_limits: { five_hour: { used_percentage: 42.3, resets_at: 1796308200 }, seven_day: { used_percentage: 105, resets_at: 1796720400 } } });
    const result = await runWithStdin(['statusline', '--now', NOW], input);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('5h 42% (1h 0m) · 7d 105% LIMIT (4d 19h)\n');
    const spool = path.join(workdir, database.spoolDirectory, 'claude-max.json');
    if (backend.name === 'pglite') {
      // PGlite is single-process: the spool waits for the database's owner.
      expect(JSON.parse(await readFile(spool, 'utf8'))).toHaveLength(2);
      expect((await utt(['quota', '--offline'])).code).toBe(2);
    } else {
      // The background process removes the spool file once the readings are stored.
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline && (await readFile(spool).then(() => true, () => false))) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await expect(readFile(spool)).rejects.toThrow();
    const store = await database.open();
    try {
      const readings = await store.listQuotaReadings();
      expect(readings.map((reading) => [reading.source, reading.account, reading.window, reading.usedRatio, reading.status, reading.obtainedVia])).toEqual([
        ['claude-max', 'max@example.com', '5h', 0.423, 'allowed', 'piggyback'],
        ['claude-max', 'max@example.com', '7d', 1.05, 'rejected', 'piggyback'],
      ]);
    } finally {
      await store.close();
    }
    // Without rate_limits (before the first response): a line, nothing stored, still exit 0.
    const empty = await runWithStdin(['statusline', '--wait'], JSON.stringify({ model: {} }));
    expect(empty).toMatchObject({ code: 0, stdout: 'quota: waiting for the first response\n' });
  });

  function runWithStdin(args: string[], input: string) {
    return new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: workdir, env: { ...process.env, DATABASE_URL: undefined, UTT_CONFIG: undefined, ...env } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout }));
      child.stdin.end(input);
    });
  }

  it('alerts once per crossing across concurrent processes, once on recovery, then stays quiet', async () => {
    fakes.usage = { five: 97, week: 40 };
    expect((await utt(['quota', '--provider', 'anthropic'])).code).toBe(2);
    // Two cron processes at once on PostgreSQL; one after the other on PGlite (a single-process database).
    const runs = backend.name === 'postgres' ? await Promise.all([utt(['alerts']), utt(['alerts'])]) : [await utt(['alerts']), await utt(['alerts'])];
    for (const run of runs) expect(run.code).toBe(0);
    expect(fakes.posts).toEqual([':red_circle: utt: anthropic max@example.com 5h quota CRITICAL: 97% used (allowed), resets in 1h 0m; runs out in 7m at this pace']);
    expect((await utt(['alerts'])).code).toBe(0);
    expect(fakes.posts).toHaveLength(1);

    // Six minutes on, the window has room again: one recovery message.
    fakes.usage = { five: 30, week: 40 };
    expect((await utt(['quota', '--provider', 'anthropic'], '2026-12-03T13:36:00Z')).code).toBe(0);
    await utt(['alerts'], '2026-12-03T13:36:00Z');
    await utt(['alerts'], '2026-12-03T13:37:00Z');
    expect(fakes.posts).toHaveLength(2);
    expect(fakes.posts[1]).toBe('utt: ✅ anthropic max@example.com 5h quota back to OK: 30% used (was critical)');
    for (const post of fakes.posts) expect(post).not.toContain('secret-path');
  });
});
