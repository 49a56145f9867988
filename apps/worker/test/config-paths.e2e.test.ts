import { cpSync, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '@utt/postgres';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { makeWorkdir, removeWorkdir, runCli } from './helpers/cli';

// A deployment keeps its config, data files and database in one folder and
// runs utt from anywhere (cron's working directory is usually $HOME or /).
describe('relative paths in a config resolve against the config file folder', () => {
  let workdir: string;
  beforeEach(async () => {
    workdir = await makeWorkdir();
  });
  afterEach(async () => {
    await removeWorkdir(workdir);
  });

  it('database.path, pricing.file and an adapter file path mean the same thing from any working directory', async () => {
    const deployment = path.join(workdir, 'deploy');
    await mkdir(path.join(deployment, 'data'), { recursive: true });
    // The prepared empty database saves the first-run initdb; the test still proves which folder is opened.
    cpSync(inject('pgliteTemplate'), path.join(deployment, 'state/pglite'), { recursive: true });
    await writeFile(
      path.join(deployment, 'data/usage.csv'),
      'bucket_start,provider,model,input_tokens,output_tokens,requests\n2026-10-01T09:00:00Z,openai,gpt-5,1000,200,3\n',
    );
    await writeFile(
      path.join(deployment, 'utt.config.yaml'),
      [
        'database: { path: state/pglite }',
        'pricing: { file: state/prices.json }',
        'sources:',
        '  - name: usage-csv',
        '    adapter: "@utt/adapter-manual-import"',
        '    config: { files: [data/usage.csv] }',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(deployment, 'state/prices.json'), '{ not json');

    const elsewhere = path.join(workdir, 'elsewhere');
    await mkdir(elsewhere);
    const run = await runCli(['run', '--config', '../deploy/utt.config.yaml'], { cwd: elsewhere });
    // The broken prices file is found next to the config, not in the working directory.
    expect(run.stderr).toContain(path.join(deployment, 'state/prices.json'));

    await rm(path.join(deployment, 'state/prices.json'));
    const second = await runCli(['run', '--config', 'deploy/utt.config.yaml'], { cwd: workdir });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(existsSync(path.join(workdir, 'state'))).toBe(false);
    expect(existsSync(path.join(elsewhere, 'state'))).toBe(false);

    const store = await openStore({ path: path.join(deployment, 'state/pglite'), schema: 'utt' });
    try {
      const rows = await store.client.query<{ input_tokens: string }>(`SELECT input_tokens FROM utt.token_usage WHERE source_system = 'manual'`);
      expect(rows.map((row) => Number(row.input_tokens))).toEqual([1000]);
    } finally {
      await store.close();
    }

    const report = await runCli(['report', '--since', '2026-10-01', '--config', path.join(deployment, 'utt.config.yaml')], { cwd: elsewhere });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('1,000');
  });
});
