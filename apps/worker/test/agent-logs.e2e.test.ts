import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const NOW = '2026-03-01T14:00:00Z';

/** One Claude Code assistant line; `copies` > 1 writes the response once per content block, as Claude Code does. */
function assistant(fields: { id: string; at: string; session: string; input: number; output: number; cacheRead: number; copies?: number }): string {
  const lines: string[] = [];
  const copies = fields.copies ?? 1;
  for (let copy = 1; copy <= copies; copy += 1) {
    lines.push(
      JSON.stringify({
        isSidechain: false,
        sessionId: fields.session,
        version: '2.1.63',
        type: 'assistant',
        message: {
          model: 'claude-sonnet-4-5',
          id: fields.id,
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'ok' }],
          // Early copies carry a partial output count.
          usage: { input_tokens: fields.input, cache_read_input_tokens: fields.cacheRead, cache_creation_input_tokens: 0, output_tokens: copy === copies ? fields.output : 1 },
        },
        requestId: `req_${fields.id}`,
        timestamp: fields.at,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

const ROWS_SQL = `SELECT source_instance, bucket_start, model, labels, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, requests, updated_at
  FROM utt_schema.token_usage WHERE source_system = 'claude_code' ORDER BY source_instance, bucket_start, labels::text`;

describe.each(backends())('coding-agent logs from two machines on $name', (backend) => {
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

  async function rows() {
    const store = await database.open();
    try {
      return await store.client.query<Record<string, unknown>>(ROWS_SQL.replaceAll('utt_schema', `"${store.schema}"`));
    } finally {
      await store.close();
    }
  }

  async function machine(name: string, instance: string) {
    const projects = path.join(workdir, name, '.claude', 'projects', '-home-dev-app');
    await mkdir(projects, { recursive: true });
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `sources:\n  - name: claude-code\n    adapter: "@utt/adapter-claude-code"\n    config:\n      instance: ${instance}\n      paths: [${JSON.stringify(path.join(workdir, name, '.claude', 'projects'))}]\n`,
      `${name}.yaml`,
    );
    return { projects, config, run: () => runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: database.env }) };
  }

  it('ingests both machines without double counting, is idempotent, and rewrites only the hour that changed', async () => {
    const laptop = await machine('laptop', 'alice@laptop');
    const desktop = await machine('desktop', 'alice@desktop');
    // The laptop: one response written as three lines, and a resumed session replaying it.
    await writeFile(path.join(laptop.projects, 's1.jsonl'), assistant({ id: 'msg_a', at: '2026-03-01T10:05:00Z', session: 's1', input: 10, output: 200, cacheRead: 1000, copies: 3 }));
    await writeFile(
      path.join(laptop.projects, 's2.jsonl'),
      assistant({ id: 'msg_a', at: '2026-03-01T10:05:00Z', session: 's2', input: 10, output: 200, cacheRead: 1000 }) +
        assistant({ id: 'msg_b', at: '2026-03-01T11:10:00Z', session: 's2', input: 5, output: 50, cacheRead: 0 }),
    );
    // The desktop: the same message ids on another machine are other responses, kept apart by source_instance.
    await writeFile(path.join(desktop.projects, 's9.jsonl'), assistant({ id: 'msg_a', at: '2026-03-01T10:30:00Z', session: 's9', input: 7, output: 70, cacheRead: 700 }));

    for (const run of [laptop.run, desktop.run]) {
      const result = await run();
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
    const report = await runCli(['report', '--config', laptop.config, '--by', 'source', '--json'], { cwd: workdir, env: database.env });
    expect(report.code).toBe(0);
    const bySource = (JSON.parse(report.stdout) as Array<Record<string, unknown>>).map((row) => [row.key, row.inputTokens, row.outputTokens, row.cachedReadTokens, row.requests]);
    expect(bySource).toEqual([
      ['claude_code/alice@desktop', 7, 70, 700, 1],
      ['claude_code/alice@laptop', 15, 250, 1000, 2],
    ]);

    // Re-running both machines changes nothing: same rows, same numbers, not even updated_at.
    const before = await rows();
    expect(before).toHaveLength(3);
    for (const run of [laptop.run, desktop.run]) expect((await run()).code).toBe(0);
    expect(await rows()).toEqual(before);

    // New lines in hour 11 on the laptop: that row is recomputed exactly, the others are untouched.
    await appendFile(path.join(laptop.projects, 's2.jsonl'), assistant({ id: 'msg_c', at: '2026-03-01T11:40:00Z', session: 's2', input: 1, output: 9, cacheRead: 100 }));
    expect((await laptop.run()).code).toBe(0);
    const after = await rows();
    const hour11 = after.find((row) => row.source_instance === 'alice@laptop' && (row.bucket_start as Date).toISOString() === '2026-03-01T11:00:00.000Z');
    expect(hour11).toMatchObject({ input_tokens: 6, output_tokens: 59, cached_read_tokens: 100, requests: 2 });
    const unchanged = (list: Array<Record<string, unknown>>) => list.filter((row) => row !== undefined && (row.bucket_start as Date).toISOString() !== '2026-03-01T11:00:00.000Z');
    expect(unchanged(after)).toEqual(unchanged(before));

    // A resumed session replaying msg_b a cycle later: the ledger, loaded on demand from the database, finds the copy already counted.
    await appendFile(path.join(laptop.projects, 's1.jsonl'), assistant({ id: 'msg_b', at: '2026-03-01T11:10:00Z', session: 's1', input: 5, output: 50, cacheRead: 0 }));
    expect((await laptop.run()).code).toBe(0);
    expect(await rows()).toEqual(after);
    // The state is kept per directory (listing, cursors), per hour and per index shard.
    const store = await database.open();
    try {
      const keys = (await store.client.query<{ key: string }>(`SELECT key FROM "${store.schema}".source_state WHERE key LIKE 'claude-code/alice@laptop/%' ORDER BY key`)).map((row) => row.key.slice('claude-code/alice@laptop/'.length));
      expect(keys.filter((key) => !key.startsWith('ix/'))).toEqual([
        `cursors/${laptop.projects}`,
        `dirs/${path.dirname(laptop.projects)}`,
        `dirs/${laptop.projects}`,
        `hour/${Date.parse('2026-03-01T10:00:00Z') / 3_600_000}`,
        `hour/${Date.parse('2026-03-01T11:00:00Z') / 3_600_000}`,
        'meta',
        'roots',
      ]);
    } finally {
      await store.close();
    }

    const agents = await runCli(['agents', 'daily', '--config', laptop.config, '--json'], { cwd: workdir, env: database.env });
    expect(agents.code).toBe(0);
    const daily = JSON.parse(agents.stdout) as { daily: Array<Record<string, unknown>>; totals: Record<string, unknown> };
    expect(daily.daily).toEqual([
      expect.objectContaining({ date: '2026-03-01', inputTokens: 23, outputTokens: 329, cacheReadTokens: 1800, modelsUsed: ['claude-sonnet-4-5'] }),
    ]);
    const sessions = await runCli(['agents', 'session', '--config', laptop.config, '--json'], { cwd: workdir, env: database.env });
    const bySession = (JSON.parse(sessions.stdout) as { sessions: Array<Record<string, unknown>> }).sessions.map((line) => [line.instance, line.sessionId, line.outputTokens]);
    expect(bySession).toEqual([
      ['alice@desktop', 's9', 70],
      ['alice@laptop', 's1', 200],
      ['alice@laptop', 's2', 59],
    ]);
    // Eight CLI runs, each opening the database: PGlite needs the room on a busy machine.
  }, 180_000);
});
