import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const API_KEY = 'sk-acme-CANARY-newcomer-4f1d';

type Result = { code: number; stdout: string; stderr: string };

/** Runs a command as a user's shell would: no vitest variables leak into the child (its own vitest would read them). */
function sh(command: string, args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST$|NODE_ENV$|TURBO_|npm_)/.test(name)));
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd, env: { ...env, ...extraEnv, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

async function ok(command: string, args: readonly string[], cwd: string, extraEnv?: Record<string, string>): Promise<string> {
  const result = await sh(command, args, cwd, extraEnv);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let scratch: string;
let provider: Server;
let providerUrl: string;
beforeAll(async () => {
  // Outside the repository: nothing resolves from its node_modules or workspace.
  scratch = await mkdtemp(path.join(tmpdir(), 'utt-newcomer-'));
  provider = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.headers.authorization !== `Bearer ${API_KEY}`) return void response.writeHead(401).end('{"error":"bad key"}');
    if (url.pathname !== '/usage') return void response.writeHead(404).end('{}');
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        data: [
          { hour: '2026-10-01T00:00:00Z', model: 'acme-large', prompt_tokens: 1200, cached_tokens: 200, completion_tokens: 300 },
          { hour: '2026-10-01T01:00:00Z', model: 'acme-small', prompt_tokens: 500, completion_tokens: 80 },
        ].filter((row) => row.hour >= (url.searchParams.get('start') ?? '') && row.hour < (url.searchParams.get('end') ?? '~')),
        next: null,
      }),
    );
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => provider?.close(resolve));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it('a newcomer installs the packed CLI outside the repository, starts an adapter from the template, tests it, backfills with it and reports', async () => {
  // 1. Every publishable package as the registry would get it (the script refuses workspace:/catalog: ranges).
  const tarballs = path.join(scratch, 'tarballs');
  await ok(process.execPath, [path.join(ROOT, 'tooling/newcomer-path/pack-workspace.mjs'), tarballs], ROOT);
  const packed = await readdir(tarballs);
  expect(packed).toEqual(expect.arrayContaining(['utt-core-0.0.0.tgz', 'utt-adapter-testkit-0.0.0.tgz', 'utt-worker-0.0.0.tgz'].map((name) => expect.stringMatching(new RegExp(`^${name.replace('0.0.0', '\\d+\\.\\d+\\.\\d+')}$`)))));
  const tarball = (name: string) => path.join(tarballs, packed.find((file) => file.startsWith(`${name}-`) && /^\d/.test(file.slice(name.length + 1)))!);

  // 2. A deployment folder with the CLI (it brings core, the store and the first-party adapters).
  const deploy = path.join(scratch, 'deploy');
  await mkdir(deploy);
  await writeFile(path.join(deploy, 'package.json'), '{ "name": "deploy", "private": true, "type": "module" }\n');
  await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed.map((file) => path.join(tarballs, file))], deploy);
  const utt = path.join(deploy, 'node_modules/.bin/utt');

  // 3. A new adapter from the template, in its own folder.
  const work = path.join(scratch, 'work');
  await mkdir(work);
  expect(await ok(utt, ['new-adapter', 'acme'], work)).toContain('created utt-adapter-acme');
  const adapter = path.join(work, 'utt-adapter-acme');
  // Its package.json keeps the published ranges; --no-save installs core and the kit from their tarballs.
  await ok('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball('utt-core'), tarball('utt-adapter-testkit')], adapter);
  const conformance = await ok('npm', ['test'], adapter);
  expect(conformance).toMatch(/Tests\s+11 passed/);
  await ok('npm', ['pack'], adapter);

  // 4. Installed by package name in the deployment, collected and reported.
  await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(adapter, 'utt-adapter-acme-0.1.0.tgz')], deploy);
  await writeFile(
    path.join(deploy, 'utt.config.yaml'),
    ['sources:', '  - name: acme', '    adapter: utt-adapter-acme', '    config:', '      apiKey: "${ACME_API_KEY}"', `      baseUrl: ${providerUrl}`, ''].join('\n'),
  );
  const elsewhere = path.join(scratch, 'elsewhere');
  await mkdir(elsewhere);
  const backfill = await sh(utt, ['backfill', '--source', 'acme', '--since', '2026-10-01', '--until', '2026-10-01T03:00:00Z', '--now', '2026-10-01T06:00:00Z', '--config', '../deploy/utt.config.yaml'], elsewhere, {
    ACME_API_KEY: API_KEY,
  });
  expect(backfill.stderr).toBe('');
  expect(backfill.code).toBe(0);
  expect(backfill.stdout).toMatch(/acme\s+acme_api\s+ok/);

  // Reading needs no provider key.
  const report = await sh(utt, ['report', '--since', '2026-10-01', '--until', '2026-10-02', '--by', 'model'], deploy);
  expect(report.stderr).toBe('');
  expect(report.code).toBe(0);
  expect(report.stdout).toMatch(/acme-large\s+1,000\s+300\s+200/);
  expect(report.stdout).toMatch(/acme-small\s+500\s+80\s+–/);
  expect(`${backfill.stdout}${report.stdout}`).not.toContain(API_KEY);
});
