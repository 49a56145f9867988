import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProvider } from './fake-provider.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve('@utt/worker/package.json')), 'dist/cli.js');

let fake;
let workdir;
beforeAll(async () => {
  fake = await startFakeProvider();
  workdir = await mkdtemp(join(tmpdir(), 'utt-example-'));
});
afterAll(async () => {
  await fake?.close();
  await rm(workdir, { recursive: true, force: true });
});

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: workdir, env: { ...process.env, DATABASE_URL: undefined, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('tracks the service end to end: tagged, priced calls in `utt report --by tag:tenant`, a tenant stopped by its budget', async () => {
  const pglite = join(workdir, 'db');
  // One file for the service's budgets and for utt, as in this folder's utt.config.yaml, with a tighter limit.
  const config = join(workdir, 'utt.config.yaml');
  await writeFile(
    config,
    `database:\n  path: ${JSON.stringify(pglite)}\nbudgets:\n  - { name: tenant-daily, period: day, limitUsd: 0.01, behavior: block, scope: { tags: { tenant: '*' } } }\n`,
  );
  const env = { UTT_PGLITE_PATH: pglite, OPENAI_BASE_URL: `${fake.url}/v1`, ANTHROPIC_BASE_URL: fake.url, PORT: '0' };
  const service = spawn(process.execPath, [join(here, 'server.mjs')], { cwd: workdir, env: { ...process.env, DATABASE_URL: undefined, ...env } });
  let output = '';
  service.stderr.on('data', (chunk) => (output += chunk));
  const url = await new Promise((resolve, reject) => {
    service.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /support-bot on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    service.on('exit', () => reject(new Error(`the service exited early:\n${output}`)));
  });
  const ask = (path, tenant) => fetch(`${url}${path}`, { method: 'POST', headers: { 'x-tenant': tenant }, body: 'How do I reset my password?' });

  // acme: an answer ($0.00027) and a summary ($0.0075) fit in $0.01; the next summary's worst case does not.
  expect((await ask('/answer', 'acme')).status).toBe(200);
  expect((await ask('/summarize', 'acme')).status).toBe(200);
  const refused = await ask('/summarize', 'acme');
  expect(refused.status).toBe(402);
  expect(await refused.json()).toMatchObject({ budget: 'tenant-daily' });
  // Other tenants keep their own budget.
  expect((await ask('/answer', 'globex')).status).toBe(200);
  expect(fake.requests).toHaveLength(3);

  service.kill('SIGTERM');
  const code = await new Promise((resolve) => service.on('exit', resolve));
  expect(code).toBe(0);
  expect(output).toContain('"dropped":0');

  const report = await run(process.execPath, [cli, 'report', '--config', config, '--by', 'tag:tenant', '--json']);
  expect(report.stderr).toBe('');
  const rows = JSON.parse(report.stdout).map((row) => [row.key, Number(row.costUsd), row.requests]);
  // 1000 × $0.15/M + 200 × $0.60/M = $0.00027; 2000 × $3/M + 100 × $15/M = $0.0075.
  expect(rows).toEqual([
    ['acme', 0.00777, 2],
    ['globex', 0.00027, 1],
  ]);

  // utt budget reads the budget the service enforced, from the same file.
  const budget = await run(process.execPath, [cli, 'budget', '--config', config, '--json']);
  expect(budget.stderr).toBe('');
  expect(JSON.parse(budget.stdout).budgets.map((line) => [line.budget, line.scopeValues, line.spentUsd, line.limitUsd])).toEqual([
    ['tenant-daily', { tenant: 'acme' }, 0.00777, 0.01],
    ['tenant-daily', { tenant: 'globex' }, 0.00027, 0.01],
  ]);
});
