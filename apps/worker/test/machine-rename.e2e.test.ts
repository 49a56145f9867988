import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const NOW = '2026-03-01T14:00:00Z';

function assistant(fields: { id: string; at: string; session: string; input: number; output: number }): string {
  return `${JSON.stringify({
    isSidechain: false,
    sessionId: fields.session,
    type: 'assistant',
    message: {
      model: 'claude-sonnet-4-5',
      id: fields.id,
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'ok' }],
      usage: { input_tokens: fields.input, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: fields.output },
    },
    requestId: `req_${fields.id}`,
    timestamp: fields.at,
  })}\n`;
}

/** Three sessions of one project: enough files for the rename rule to recognise them. */
function sessions(prefix: string): Array<[string, string]> {
  return [1, 2, 3].map((index) => [
    `${prefix}${index}.jsonl`,
    assistant({ id: `${prefix}_msg_${index}`, at: `2026-03-01T1${index}:05:00Z`, session: `${prefix}${index}`, input: 10 * index, output: 100 * index }),
  ]);
}

describe.each(backends())('a machine whose name changes, on $name', (backend) => {
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

  async function query(sql: string): Promise<Array<Record<string, unknown>>> {
    const store = await database.open();
    try {
      return await store.client.query<Record<string, unknown>>(sql.replaceAll('utt_schema', `"${store.schema}"`));
    } finally {
      await store.close();
    }
  }

  const totals = () =>
    query(
      `SELECT source_instance, sum(input_tokens)::int AS input, sum(output_tokens)::int AS output, sum(requests)::int AS requests
         FROM utt_schema.token_usage WHERE source_system = 'claude_code' GROUP BY source_instance ORDER BY source_instance`,
    );

  /** One laptop: its home (the same path for every machine of the test), and a run of `utt` under a host name. */
  async function laptop(instanceLine = '') {
    const home = path.join(workdir, 'home');
    const projects = path.join(home, '.claude', 'projects', '-home-dev-app');
    await mkdir(projects, { recursive: true });
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `sources:\n  - name: claude-code\n    adapter: "@utt/adapter-claude-code"\n    config:\n${instanceLine}      paths: [${JSON.stringify(path.join(home, '.claude', 'projects'))}]\n`,
    );
    const run = async (hostname: string) => {
      const result = await runCli(['run', '--config', config, '--now', NOW, '--log-level', 'info'], {
        cwd: workdir,
        env: { ...database.env, USER: 'alice', USERNAME: undefined, HOSTNAME: hostname, COMPUTERNAME: undefined },
      });
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    return { projects, run };
  }

  it('continues as the name it had when the files it knew are still there: nothing counted twice', async () => {
    const machine = await laptop();
    for (const [name, text] of sessions('s')) await writeFile(path.join(machine.projects, name), text);
    await machine.run('Alices-MacBook-Pro.local');
    const once = await totals();
    expect(once).toEqual([{ source_instance: 'alice@Alices-MacBook-Pro.local', input: 60, output: 600, requests: 3 }]);
    const rows = () => query(`SELECT * FROM utt_schema.token_usage ORDER BY id`);
    const rowsOnce = await rows();

    // The network changed the host name: same files, same inodes.
    const renamed = await machine.run('Alices-MacBook-Pro-2.local');
    // The very rows one machine wrote, not rewritten (updated_at included).
    expect(await rows()).toEqual(rowsOnce);
    expect(await totals()).toEqual(once);
    expect(renamed.stderr).toMatch(/machine name changed from alice@Alices-MacBook-Pro\.local to alice@Alices-MacBook-Pro-2\.local/);
    expect(renamed.stderr).toMatch(/instance: alice@Alices-MacBook-Pro\.local/);

    // Later cycles under the new name go on as the old one: new lines are counted once, under the old instance.
    await writeFile(path.join(machine.projects, 's4.jsonl'), assistant({ id: 's_msg_4', at: '2026-03-01T13:30:00Z', session: 's4', input: 1, output: 1 }));
    const again = await machine.run('Alices-MacBook-Pro-2.local');
    expect(again.stderr).not.toMatch(/machine name changed/);
    expect(await totals()).toEqual([{ source_instance: 'alice@Alices-MacBook-Pro.local', input: 61, output: 601, requests: 4 }]);
    // And back to the first name: its own state, nothing read again.
    await machine.run('Alices-MacBook-Pro.local');
    expect(await totals()).toEqual([{ source_instance: 'alice@Alices-MacBook-Pro.local', input: 61, output: 601, requests: 4 }]);
  }, 120_000);

  it('keeps another machine with the same user and home apart: other inodes are other files', async () => {
    const machine = await laptop();
    for (const [name, text] of sessions('s')) await writeFile(path.join(machine.projects, name), text);
    await machine.run('alice-laptop');

    // The other machine's files at the same paths (other responses): new inodes, made while the first ones still exist.
    for (const [name, text] of sessions('s')) {
      const file = path.join(machine.projects, name);
      await writeFile(`${file}.next`, text.replaceAll('s_msg_', 'd_msg_').replaceAll('"input_tokens":', '"input_tokens":1'));
      await rename(`${file}.next`, file);
    }
    const desktop = await machine.run('alice-desktop');
    expect(desktop.stderr).not.toMatch(/machine name changed/);
    expect(await totals()).toEqual([
      { source_instance: 'alice@alice-desktop', input: 110 + 120 + 130, output: 600, requests: 3 },
      { source_instance: 'alice@alice-laptop', input: 60, output: 600, requests: 3 },
    ]);
  }, 120_000);

  it('leaves a configured instance as it is', async () => {
    const first = await laptop();
    for (const [name, text] of sessions('s')) await writeFile(path.join(first.projects, name), text);
    await first.run('alice-laptop');
    // The same files under an instance named in the config: the config is obeyed, as before.
    const pinned = await laptop('      instance: alice-pinned\n');
    const result = await pinned.run('alice-laptop-2');
    expect(result.stderr).not.toMatch(/machine name changed/);
    expect(await totals()).toEqual([
      { source_instance: 'alice-pinned', input: 60, output: 600, requests: 3 },
      { source_instance: 'alice@alice-laptop', input: 60, output: 600, requests: 3 },
    ]);
  }, 120_000);
});
