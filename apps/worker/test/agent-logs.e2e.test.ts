import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import type { UsageStore } from '@utt/postgres';
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

/**
 * Every column but id, created_at and updated_at of the Claude Code rows with
 * usage. A row whose only response moved to another hour in a later cycle is
 * kept with zero counts (the upsert that clears it), which a cold read never
 * writes: those are left out.
 */
async function agentRows(database: { open(): Promise<UsageStore> }): Promise<Array<Record<string, unknown>>> {
  const store = await database.open();
  try {
    const rows = await store.client.query<Record<string, unknown>>(
      `SELECT source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels::text AS labels,
              input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
              cost_usd::text AS cost_usd, cost_source, measurement_basis, price_ref
         FROM "${store.schema}".token_usage
        WHERE source_system = 'claude_code' AND requests > 0
        ORDER BY bucket_start, labels::text, model`,
    );
    return rows.map((row) => ({ ...row, bucket_start: (row.bucket_start as Date).toISOString() }));
  } finally {
    await store.close();
  }
}

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

  it('after any sequence of cycles holds the rows a cold backfill of the final files writes', async () => {
    const laptop = await machine('laptop', 'alice@laptop');
    const other = path.join(path.dirname(laptop.projects), '-home-dev-lib');
    await mkdir(other);
    const s1 = path.join(laptop.projects, 's1.jsonl');
    const s2 = path.join(other, 's2.jsonl');
    const s3 = path.join(laptop.projects, 's3.jsonl');
    const sidechain = (text: string) => text.replaceAll('"isSidechain":false', '"isSidechain":true').replaceAll('"requestId":"req_', '"requestId":"btw_');
    const msgB = assistant({ id: 'msg_b', at: '2026-03-01T10:59:58Z', session: 's1', input: 4, output: 40, cacheRead: 400 });
    // msg_b's final copy is written a few seconds later, in the next hour.
    const msgBFinal = msgB.replace('"output_tokens":40', '"output_tokens":44').replace('10:59:58', '11:00:03');
    const steps: Array<() => Promise<unknown>> = [
      // One response in three copies (partial output counts first), another whose final copy is half-written.
      () => writeFile(s1, assistant({ id: 'msg_a', at: '2026-03-01T10:05:00Z', session: 's1', input: 10, output: 200, cacheRead: 1000, copies: 3 }) + msgB + msgBFinal.slice(0, 50)),
      // CRLF line ends, a /btw sidechain replaying msg_a, and a line no parser can read.
      () =>
        writeFile(
          s2,
          (sidechain(assistant({ id: 'msg_a', at: '2026-03-01T10:05:00Z', session: 's2', input: 10, output: 200, cacheRead: 1000 })) +
            assistant({ id: 'msg_c', at: '2026-03-01T12:10:00Z', session: 's2', input: 2, output: 20, cacheRead: 0 }) +
            '{"message":{"usage":\n').replaceAll('\n', '\r\n'),
        ),
      // The rest of msg_b's final copy, then a resumed session replaying msg_a and msg_b with a new response.
      () => appendFile(s1, msgBFinal.slice(50)),
      () =>
        writeFile(
          s3,
          assistant({ id: 'msg_a', at: '2026-03-01T10:05:00Z', session: 's1', input: 10, output: 200, cacheRead: 1000 }) +
            msgBFinal +
            assistant({ id: 'msg_d', at: '2026-03-01T13:01:00Z', session: 's3', input: 1, output: 1, cacheRead: 1 }),
        ),
      // Renamed in its folder, and appended to in two cycles.
      () => rename(s2, path.join(other, 's2-renamed.jsonl')),
      () => appendFile(path.join(other, 's2-renamed.jsonl'), assistant({ id: 'msg_e', at: '2026-03-01T13:30:00Z', session: 's2', input: 3, output: 30, cacheRead: 3 }).slice(0, 70)),
      () => appendFile(path.join(other, 's2-renamed.jsonl'), assistant({ id: 'msg_e', at: '2026-03-01T13:30:00Z', session: 's2', input: 3, output: 30, cacheRead: 3 }).slice(70)),
    ];
    for (const step of steps) {
      await step();
      const result = await laptop.run();
      expect(result.code, result.stderr).toBe(0);
    }
    const incremental = await agentRows(database);

    // The same final files, read once into an empty database.
    const cold = backend.setup(path.join(workdir, 'cold'));
    try {
      const config = await writeConfig(
        workdir,
        cold.databaseYaml,
        `sources:\n  - name: claude-code\n    adapter: "@utt/adapter-claude-code"\n    config:\n      instance: alice@laptop\n      paths: [${JSON.stringify(path.dirname(laptop.projects))}]\n`,
        'cold.yaml',
      );
      const backfill = await runCli(['backfill', '--source', 'claude-code', '--since', '2026-03-01T00:00:00Z', '--config', config, '--now', NOW], { cwd: workdir, env: cold.env });
      expect(backfill.code, backfill.stderr).toBe(0);
      // The range does not filter transcripts, and the command says so (the rows below are those of every hour).
      expect(backfill.stderr.split('\n')[0]).toBe(
        'warn: [claude-code] the claude-code adapter collects no time window, so --since/--until are ignored: this is an ordinary cycle (a coding-agent source reads every transcript, only what is new since its last cycle, and writes every hour it finds)',
      );
      expect(incremental).toEqual(await agentRows(cold));
    } finally {
      await cold.cleanup();
    }
    expect(incremental.map((row) => [row.bucket_start, row.labels, row.output_tokens])).toEqual([
      ['2026-03-01T10:00:00.000Z', '{"project": "-home-dev-app", "session": "s1"}', 200],
      ['2026-03-01T11:00:00.000Z', '{"project": "-home-dev-app", "session": "s1"}', 44],
      ['2026-03-01T12:00:00.000Z', '{"project": "-home-dev-lib", "session": "s2"}', 20],
      ['2026-03-01T13:00:00.000Z', '{"project": "-home-dev-app", "session": "s3"}', 1],
      ['2026-03-01T13:00:00.000Z', '{"project": "-home-dev-lib", "session": "s2"}', 30],
    ]);
  }, 240_000);

  it('utt daemon reads lines appended between its cycles, looking only at the file that changed', async () => {
    const laptop = await machine('laptop', 'alice@laptop');
    const library = path.join(path.dirname(laptop.projects), '-home-dev-lib');
    await mkdir(library);
    // Within the retention period of the daemon's real clock.
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    await writeFile(path.join(laptop.projects, 's1.jsonl'), assistant({ id: 'msg_a', at: at(90), session: 's1', input: 10, output: 200, cacheRead: 1000 }));
    await writeFile(path.join(library, 's3.jsonl'), assistant({ id: 'msg_x', at: at(80), session: 's3', input: 3, output: 30, cacheRead: 300 }));

    // Each cycle's scan statistics, from the adapter's debug line.
    const scans: Array<{ files: number; filesStatted: number; filesRead: number }> = [];
    let appended = false;
    const result = await runCli(['daemon', '--config', laptop.config, '--interval', '200ms', '--log-level', 'debug'], {
      cwd: workdir,
      // Cycles every 200 ms against local files: below the daemon's one-minute floor on purpose.
      env: { ...database.env, UTT_DAEMON_MIN_INTERVAL: '100ms' },
      onSpawn: (child) => {
        const giveUp = setTimeout(() => child.kill('SIGTERM'), 60_000);
        let pending = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            const scanned = /claude-code: scanned transcripts (\{.*\})$/.exec(line);
            if (!scanned) continue;
            const scan = JSON.parse(scanned[1] as string) as (typeof scans)[number];
            scans.push(scan);
            if (!appended && scans.length >= 2 && scan.filesStatted === 0) {
              appended = true;
              void appendFile(path.join(laptop.projects, 's1.jsonl'), assistant({ id: 'msg_c', at: at(30), session: 's1', input: 1, output: 9, cacheRead: 100 }));
            } else if (appended && scan.filesRead === 1) {
              clearTimeout(giveUp);
              child.kill('SIGTERM');
            }
          }
        });
      },
    });
    expect(result.code, result.stderr).toBe(0);
    // The first cycle looks at both files; idle cycles at none; the one after the append at that file alone.
    expect(scans[0]).toMatchObject({ files: 2, filesStatted: 2, filesRead: 2 });
    expect(scans.at(-1)).toMatchObject({ files: 2, filesStatted: 1, filesRead: 1 });
    const all = await rows();
    const sum = (column: string) => all.reduce((total, row) => total + (row[column] as number), 0);
    expect([sum('input_tokens'), sum('output_tokens')]).toEqual([14, 239]);
  }, 120_000);
});
