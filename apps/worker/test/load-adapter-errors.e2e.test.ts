import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';

// Real packages on disk, installed the way npm lays them out, each broken in one way.
const ADAPTER = `export default {
  specificationVersion: 'v1', id: 'fixture', sourceSystem: 'fixture',
  configSchema: { '~standard': { version: 1, vendor: 'fixture', validate: (value) => ({ value }) } },
  capabilities: { granularities: ['hour'], cacheTokens: 'none', costSource: 'none', measurementBasis: 'exact', maxBackfillDays: null, windowed: true },
  collect: async () => [],
};
`;

let workdir: string;

async function writePackage(name: string, manifest: Record<string, unknown>, files: Record<string, string>): Promise<void> {
  const folder = path.join(workdir, 'node_modules', name);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(folder, file)), { recursive: true });
    await writeFile(path.join(folder, file), text);
  }
}

/** The one issue line `utt run` prints for a config whose only source uses this adapter. */
async function adapterIssue(adapter: string): Promise<string> {
  const config = path.join(workdir, `${adapter.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
  await writeFile(config, `database: { path: db }\nsources:\n  - { name: s, adapter: ${JSON.stringify(adapter)} }\n`);
  const result = await runCli(['run', '--config', config], { cwd: workdir });
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n');
  expect(lines[0]).toBe(`utt: invalid configuration in ${config}:`);
  return lines[1]!.trim();
}

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'utt-load-adapter-'));
  await writePackage('utt-adapter-import-only', { exports: { '.': { import: './index.js' } } }, { 'index.js': ADAPTER });
  await writePackage('utt-adapter-browser-only', { exports: { '.': { types: './index.d.ts', browser: './index.js' } } }, { 'index.js': ADAPTER });
  await writePackage('utt-adapter-lost-dependency', { exports: './index.js', dependencies: { 'utt-helper-gone': '^1.0.0' } }, {
    'index.js': `import 'utt-helper-gone';\n${ADAPTER}`,
  });
  await writePackage('utt-adapter-named-only', { exports: './index.js' }, { 'index.js': ADAPTER.replace('export default {', 'export const fixtureAdapter = {') });
  await writePackage('utt-adapter-unbuilt', { exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }, { 'src/index.ts': ADAPTER });
  await mkdir(path.join(workdir, 'adapters'), { recursive: true });
  await writeFile(path.join(workdir, 'adapters/throws.js'), `throw new Error('ACME_BASE_URL must be set before import');\n`);
  await writeFile(path.join(workdir, 'adapters/typescript.ts'), `const x: number = 1;\n${ADAPTER}`);
});
afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

describe('adapter loading errors say what is wrong and how to fix it', () => {
  it('loads a package whose exports have only the "import" condition', async () => {
    const config = path.join(workdir, 'import-only.yaml');
    await writeFile(config, 'database: { path: db }\nsources:\n  - { name: s, adapter: utt-adapter-import-only, config: { apiKey: "${FIXTURE_API_KEY}" } }\n');
    const result = await runCli(['check', '--config', config], { cwd: workdir, env: { FIXTURE_API_KEY: 'sk-fixture-CANARY-1' } });
    expect(result.stderr).toBe('');
    // It has a key, and no check() to test it: said so, rather than "no credentials to check".
    expect(result.stdout).toBe('s: fixture has no check() to test its credentials; the first `utt run` will\n');
    const keyless = path.join(workdir, 'import-only-keyless.yaml');
    await writeFile(keyless, 'database: { path: db }\nsources:\n  - { name: s, adapter: utt-adapter-import-only }\n');
    expect((await runCli(['check', '--config', keyless], { cwd: workdir })).stdout).toBe('s: no credentials to check (fixture)\n');
  });

  it('not installed', async () => {
    expect(await adapterIssue('utt-adapter-nowhere')).toBe(
      'sources[0].adapter: cannot load adapter utt-adapter-nowhere: the package is not installed; install it where the config file is (npm install utt-adapter-nowhere), or give a path to the module (./adapters/x.js)',
    );
  });

  it('a near miss of a first-party adapter', async () => {
    expect(await adapterIssue('@utt/adapter-openai')).toBe(
      'sources[0].adapter: cannot load adapter @utt/adapter-openai: the package is not installed; did you mean @utt/adapter-openai-usage?',
    );
  });

  it('its own dependency missing', async () => {
    expect(await adapterIssue('utt-adapter-lost-dependency')).toBe(
      `sources[0].adapter: cannot load adapter utt-adapter-lost-dependency: it imports utt-helper-gone, which is not installed; install it next to the adapter (npm install utt-helper-gone in ${workdir}); an adapter should list it in its dependencies`,
    );
  });

  it('no export condition Node can import', async () => {
    expect(await adapterIssue('utt-adapter-browser-only')).toBe(
      'sources[0].adapter: cannot load adapter utt-adapter-browser-only: its package.json "exports" has no condition Node\'s import() can use (it offers types, browser); add an "import" or "default" condition pointing at an ES module, e.g. "exports": { ".": { "types": "./dist/index.d.ts", "default": "./dist/index.js" } }',
    );
  });

  it('no default export', async () => {
    expect(await adapterIssue('utt-adapter-named-only')).toBe(
      'sources[0].adapter: cannot load adapter utt-adapter-named-only: it has no default export (it exports fixtureAdapter); the worker loads the default export: add `export default myAdapter` (or `export { myAdapter as default }`) to its entry',
    );
  });

  it('installed but not built', async () => {
    expect(await adapterIssue('utt-adapter-unbuilt')).toBe(
      `sources[0].adapter: cannot load adapter utt-adapter-unbuilt: its entry dist/index.js does not exist (in ${path.join(workdir, 'node_modules/utt-adapter-unbuilt')}); the package is not built or not packed completely: build it (npm run build) or reinstall it`,
    );
  });

  it('a path that does not exist, and one that exists but fails', async () => {
    expect(await adapterIssue('./adapters/missing.js')).toBe(
      `sources[0].adapter: cannot load adapter ./adapters/missing.js: no file at ${path.join(workdir, 'adapters/missing.js')}; relative paths resolve against the config file's folder; check the path, or name an installed package instead`,
    );
    expect(await adapterIssue('./adapters/throws.js')).toBe(
      `sources[0].adapter: cannot load adapter ./adapters/throws.js: ${path.join(workdir, 'adapters/throws.js')} exists but fails to load: ACME_BASE_URL must be set before import; it must be an ES module Node can run (built JavaScript, not TypeScript source); run it with node to see the full error`,
    );
  });
});
