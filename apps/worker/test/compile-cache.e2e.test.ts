import { chmod, cp, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, CLI, makeWorkdir, removeWorkdir, runCli, WORKER_ROOT, writeConfig } from './helpers/cli';

// dist/cli.js runs the CommonJS bundle with a compile cache of its own on Node < 22.1 (src/bundle/run-cached-bundle.ts).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const bundled = major < 22 || (major === 22 && minor < 1);
const NOW = '2026-03-01T14:00:00Z';

function transcriptLine(id: string, at: string, input: number, output: number): string {
  return `${JSON.stringify({
    sessionId: 's1',
    type: 'assistant',
    message: { model: 'claude-sonnet-4-5', id, type: 'message', role: 'assistant', content: [], usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } },
    requestId: `req_${id}`,
    timestamp: at,
  })}\n`;
}

/** What the cache did in a run: NODE_DEBUG=utt-compile-cache prints it on stderr. */
function cacheState(stderr: string): string | undefined {
  return /^utt-compile-cache: (\w+)/m.exec(stderr)?.[1];
}

describe.runIf(bundled)('the compile cache of the CommonJS bundle', () => {
  let workdir: string;
  let cacheFolder: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    workdir = await makeWorkdir();
    cacheFolder = path.join(workdir, 'compile-cache');
    env = { NODE_COMPILE_CACHE: cacheFolder, NODE_DEBUG: 'utt-compile-cache' };
  });
  afterEach(async () => {
    await removeWorkdir(workdir);
  });

  const help = (extra: Record<string, string> = {}) => runCli(['--help'], { cwd: workdir, env: { ...env, ...extra } });
  const cacheFiles = async () => (await readdir(cacheFolder)).filter((name) => name.endsWith('.cache'));

  it('gives a run from the cache the same result as the run that wrote it and as the ES build', async () => {
    const backend = backends().at(-1)!;
    const projects = path.join(workdir, 'claude', 'projects', '-home-dev-app');
    await mkdir(projects, { recursive: true });
    await writeFile(path.join(projects, 's1.jsonl'), transcriptLine('msg_a', '2026-03-01T10:05:00Z', 10, 200) + transcriptLine('msg_b', '2026-03-01T11:10:00Z', 5, 50));
    // The ES build, as Node ≥ 22.1 runs it: dist/cli-main.mjs imported directly.
    const esLauncher = path.join(workdir, 'es-build.mjs');
    await writeFile(esLauncher, `await import(${JSON.stringify(path.join(WORKER_ROOT, 'dist', 'cli-main.mjs'))});\n`);

    const reports: Record<string, unknown> = {};
    // The first run of a command leaves an empty cache file, the second writes the data, the third uses it.
    for (const [name, launcher] of [['first', CLI], ['miss', CLI], ['hit', CLI], ['es', esLauncher]] as const) {
      const folder = path.join(workdir, name);
      await mkdir(folder);
      const database = backend.setup(folder);
      try {
        const config = await writeConfig(
          folder,
          database.databaseYaml,
          `sources:\n  - name: claude-code\n    adapter: "@utt/adapter-claude-code"\n    config:\n      instance: laptop\n      paths: [${JSON.stringify(path.dirname(projects))}]\n`,
        );
        const cli = (args: string[]) => runCli(args, { cwd: workdir, env: { ...database.env, ...env }, launcher });
        const run = await cli(['run', '--config', config, '--now', NOW]);
        expect(run.stderr.replace(/^utt-compile-cache: .*\n/m, '')).toBe('');
        expect(run.code).toBe(0);
        expect(cacheState(run.stderr)).toBe(name === 'es' ? undefined : name === 'first' ? 'miss' : name);
        const report = await cli(['report', '--config', config, '--by', 'model', '--json']);
        expect(report.code).toBe(0);
        reports[name] = JSON.parse(report.stdout);
      } finally {
        await database.cleanup();
      }
    }
    expect(reports.miss).toEqual(reports.first);
    expect(reports.hit).toEqual(reports.first);
    expect(reports.es).toEqual(reports.first);
    expect(reports.miss).toMatchObject([{ key: 'claude-sonnet-4-5', inputTokens: 15, outputTokens: 250, requests: 2 }]);
    const files = await cacheFiles();
    expect(files.map((name) => name.replace(/^.*-/, ''))).toEqual(['report.cache', 'run.cache']);
    expect((await readFile(path.join(cacheFolder, files[1]!))).length).toBeGreaterThan(100_000);
  });

  it('leaves an empty file at the first run, writes the data at the second, uses it from the third', async () => {
    const states: Array<[string | undefined, number]> = [];
    for (let run = 0; run < 3; run += 1) {
      const result = await help();
      expect(result.code).toBe(0);
      const [file] = await cacheFiles();
      states.push([cacheState(result.stderr), (await readFile(path.join(cacheFolder, file!))).length]);
    }
    expect(states.map(([state]) => state)).toEqual(['miss', 'miss', 'hit']);
    expect(states[0]![1]).toBe(0);
    expect(states[1]![1]).toBeGreaterThan(1000);
    expect(states[2]![1]).toBe(states[1]![1]);
  });

  it('ignores a corrupt or foreign cache file and writes a good one in its place', async () => {
    const first = await help();
    expect(cacheState(first.stderr)).toBe('miss');
    expect(cacheState((await help()).stderr)).toBe('miss');
    const [file] = await cacheFiles();
    const cacheFile = path.join(cacheFolder, file!);
    const good = await readFile(cacheFile);
    expect(cacheState((await help()).stderr)).toBe('hit');

    // A byte changed in the data: the checksum no longer matches, V8 never sees it.
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0xff;
    // Cut short; not a cache file at all; and data V8 cannot use under a valid header (its checksum is right).
    const foreign = Buffer.from(good);
    foreign.fill(7, 12);
    const { crc32 } = await import('node:zlib');
    foreign.writeUInt32LE(crc32(foreign.subarray(12)), 4);
    for (const [content, state] of [
      [flipped, 'miss'],
      [good.subarray(0, good.length - 100), 'miss'],
      [Buffer.from('not a cache'), 'miss'],
      [foreign, 'rejected'],
    ] as const) {
      await writeFile(cacheFile, content);
      const result = await help();
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(first.stdout);
      expect(cacheState(result.stderr)).toBe(state);
      // Rewritten when the process exited: the next run uses it.
      expect(cacheState((await help()).stderr)).toBe('hit');
    }
  });

  it("removes other builds' cache files when they have not been written for a week", async () => {
    await mkdir(cacheFolder, { recursive: true });
    const otherBuild = (age: string) => path.join(cacheFolder, `cli-bundle-00000000000000${age === 'old' ? '00' : '01'}-12345678-v20.0.0-x64-811c9dc5-run.cache`);
    await writeFile(otherBuild('old'), 'x');
    await writeFile(otherBuild('recent'), 'x');
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    await utimes(otherBuild('old'), eightDaysAgo, eightDaysAgo);
    for (let run = 0; run < 2; run += 1) expect(cacheState((await help()).stderr)).toBe('miss');
    const left = await cacheFiles();
    expect(left).toContain(path.basename(otherBuild('recent')));
    expect(left).not.toContain(path.basename(otherBuild('old')));
    expect(left).toHaveLength(2);
  });

  it('runs without a cache where the cache folder cannot be made or written, or is not private', async () => {
    const expected = await help({ NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(expected.code).toBe(0);
    expect(cacheState(expected.stderr)).toBe('off');

    // NODE_COMPILE_CACHE under a file: the folder cannot be made.
    await writeFile(path.join(workdir, 'a-file'), '');
    const underFile = await help({ NODE_COMPILE_CACHE: path.join(workdir, 'a-file', 'cache') });
    expect([underFile.code, underFile.stdout, cacheState(underFile.stderr)]).toEqual([0, expected.stdout, 'off']);

    // The cache file's name taken by a folder: nothing can be written there, every run compiles.
    const first = await help();
    const [file] = await cacheFiles();
    await removeWorkdir(path.join(cacheFolder, file!));
    await mkdir(path.join(cacheFolder, file!));
    for (let run = 0; run < 2; run += 1) {
      const result = await help();
      expect([result.code, result.stdout, cacheState(result.stderr)]).toEqual([0, first.stdout, 'miss']);
    }
    expect(await readdir(cacheFolder)).toEqual([file]);

    // The default folder in a shared temporary folder, writable by others: not used (cached data is code).
    const temporary = path.join(workdir, 'tmp');
    const shared = path.join(temporary, `utt-compile-cache-${process.getuid?.() ?? 'x'}`);
    await mkdir(shared, { recursive: true });
    await chmod(shared, 0o777);
    const sharedRun = await runCli(['--help'], { cwd: workdir, env: { NODE_DEBUG: 'utt-compile-cache', NODE_COMPILE_CACHE: undefined, TMPDIR: temporary } });
    expect([sharedRun.code, sharedRun.stdout, cacheState(sharedRun.stderr)]).toEqual([0, expected.stdout, 'off']);
    expect(await readdir(shared)).toEqual([]);
  });

  it('runs the ES build when an inlined package is installed in another version than the bundled one', async () => {
    // A copy of the worker whose @utt/dashboard is a later release: the bundle's copy of it would be stale.
    const worker = path.join(workdir, 'worker');
    await cp(path.join(WORKER_ROOT, 'dist'), path.join(worker, 'dist'), { recursive: true });
    await cp(path.join(WORKER_ROOT, 'package.json'), path.join(worker, 'package.json'));
    await mkdir(path.join(worker, 'node_modules', '@utt'), { recursive: true });
    for (const name of await readdir(path.join(WORKER_ROOT, 'node_modules', '@utt'))) {
      const target = path.join(worker, 'node_modules', '@utt', name);
      if (name !== 'dashboard') {
        await symlink(path.join(WORKER_ROOT, 'node_modules', '@utt', name), target);
        continue;
      }
      const installed = path.join(WORKER_ROOT, 'node_modules', '@utt', name);
      await cp(installed, target, { recursive: true, dereference: true, filter: (source) => !path.relative(installed, source).includes('node_modules') });
      const manifest = JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8')) as { version: string };
      await writeFile(path.join(target, 'package.json'), JSON.stringify({ ...manifest, version: '99.0.0' }));
    }
    const launcher = path.join(worker, 'dist', 'cli.js');
    const result = await runCli(['--version'], { cwd: workdir, env, launcher });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe((await runCli(['--version'], { cwd: workdir, env })).stdout);
    expect(cacheState(result.stderr)).toBeUndefined();
  });
  it('runs the ES build when a linked package (a workspace folder) was rebuilt after the bundle', async () => {
    // A copy of the worker whose @utt/dashboard is a folder linked into node_modules, as this repository's workspace packages are.
    const worker = path.join(workdir, 'worker');
    await cp(path.join(WORKER_ROOT, 'dist'), path.join(worker, 'dist'), { recursive: true });
    await cp(path.join(WORKER_ROOT, 'package.json'), path.join(worker, 'package.json'));
    await mkdir(path.join(worker, 'node_modules', '@utt'), { recursive: true });
    const linked = path.join(worker, 'linked', 'dashboard');
    for (const name of await readdir(path.join(WORKER_ROOT, 'node_modules', '@utt'))) {
      const installed = path.join(WORKER_ROOT, 'node_modules', '@utt', name);
      const target = path.join(worker, 'node_modules', '@utt', name);
      if (name !== 'dashboard') {
        await symlink(installed, target);
        continue;
      }
      await cp(installed, linked, { recursive: true, dereference: true, filter: (source) => !path.relative(installed, source).includes('node_modules') });
      await symlink(linked, target);
    }
    // The bundle inlines js-yaml as well, and checks its version where the worker would find it.
    await symlink(path.join(WORKER_ROOT, 'node_modules', 'js-yaml'), path.join(worker, 'node_modules', 'js-yaml'));
    const launcher = path.join(worker, 'dist', 'cli.js');
    const bundleWritten = (await stat(path.join(worker, 'dist', 'cli-bundle.cjs'))).mtime.getTime();
    const entry = path.join(linked, 'dist', 'index.js');

    await utimes(entry, new Date(bundleWritten - 60_000), new Date(bundleWritten - 60_000));
    const builtBefore = await runCli(['--help'], { cwd: workdir, env, launcher });
    expect(builtBefore.code).toBe(0);
    expect(cacheState(builtBefore.stderr)).toBe('miss');

    await utimes(entry, new Date(bundleWritten + 60_000), new Date(bundleWritten + 60_000));
    const rebuiltAfter = await runCli(['--help'], { cwd: workdir, env, launcher });
    expect(rebuiltAfter.code).toBe(0);
    expect(rebuiltAfter.stdout).toBe(builtBefore.stdout);
    expect(cacheState(rebuiltAfter.stderr)).toBeUndefined();
  });
});
