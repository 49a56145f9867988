import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, WORKER_ROOT } from './helpers/cli';

// dist/cli.js is CommonJS (dist/package.json; the ES build is dist/*.mjs): a
// CommonJS entry point spares each process the set-up of Node's ES module
// loader (bench/startup/README.md, issue-12y).
describe('the utt launcher (dist/cli.js)', () => {
  const workdir = mkdtempSync(path.join(tmpdir(), 'utt-launcher-'));
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  /** The built-in modules Node loaded in a run of `utt args`, from a preload that lists them at exit. */
  function builtinsLoaded(args: readonly string[], env: Record<string, string> = {}): { status: number | null; stdout: string; loaded: string[] } {
    const list = path.join(workdir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
    const preload = path.join(workdir, 'list-loaded.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const result = spawnSync(process.execPath, ['--require', preload, CLI, ...args], { cwd: workdir, env: { ...process.env, ...env }, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, loaded: readFileSync(list, 'utf8').split('\n') };
  }

  it('is CommonJS, and the ES build beside it ES modules', () => {
    expect(JSON.parse(readFileSync(path.join(WORKER_ROOT, 'dist/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    expect(readFileSync(CLI, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n"use strict";/);
    expect(readFileSync(path.join(WORKER_ROOT, 'dist/cli-main.mjs'), 'utf8')).toMatch(/^import /m);
  });

  it.runIf(Number(process.versions.node.split('.')[0]) < 22)('runs the bundle without setting up Node\'s ES module loader', () => {
    const { status, stdout, loaded } = builtinsLoaded(['--version']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^utt \d/);
    expect(loaded).toContain('NativeModule vm');
    expect(loaded.filter((name) => name.startsWith('NativeModule internal/modules/esm/'))).not.toContain('NativeModule internal/modules/esm/translators');
  });

  it('runs the ES build (dist/cli-main.mjs) when the bundle cannot stand in for it (here: hidden)', () => {
    const hide = path.join(workdir, 'hide-bundle.cjs');
    writeFileSync(
      hide,
      "const fs = require('node:fs'); const read = fs.readFileSync; fs.readFileSync = function (file, ...rest) { if (String(file).endsWith('cli-bundle.cjs')) throw Object.assign(new Error('hidden'), { code: 'ENOENT' }); return read.call(this, file, ...rest); };\n",
    );
    const result = spawnSync(process.execPath, ['--require', hide, CLI, '--version'], { cwd: workdir, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^utt \d/);
    expect(result.stdout).toBe(spawnSync(process.execPath, [CLI, '--version'], { cwd: workdir, encoding: 'utf8' }).stdout);
  });
});
