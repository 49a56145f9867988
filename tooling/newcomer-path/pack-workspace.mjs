#!/usr/bin/env node
// Packs every publishable package (packages/*, apps/*) into one folder with
// `pnpm pack`, which replaces `workspace:` and `catalog:` ranges with the
// versions a registry would see, then refuses any tarball that still has one.
// Usage: node tooling/newcomer-path/pack-workspace.mjs [DESTINATION]  (default .tmp/tarballs)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function packWorkspace(destination) {
  rmSync(destination, { recursive: true, force: true });
  mkdirSync(destination, { recursive: true });
  const folders = ['packages', 'apps'].flatMap((parent) =>
    readdirSync(path.join(ROOT, parent))
      .map((name) => path.join(ROOT, parent, name))
      .filter((folder) => existsSync(path.join(folder, 'package.json'))),
  );
  const publishable = folders.filter((folder) => JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')).private !== true);
  // Two at a time: pnpm pack is mostly process start-up.
  const queue = [...publishable];
  const tarballs = [];
  await Promise.all(
    [0, 1].map(async () => {
      for (let folder = queue.shift(); folder; folder = queue.shift()) {
        const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination], { cwd: folder });
        const file = stdout.trim().split('\n').at(-1);
        tarballs.push(path.isAbsolute(file) ? file : path.join(destination, path.basename(file)));
      }
    }),
  );
  for (const tarball of tarballs) {
    const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
    const manifest = JSON.parse(stdout);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        if (/^(workspace|catalog|link|file):/.test(range)) throw new Error(`${path.basename(tarball)}: ${field}.${name} is "${range}", which no registry resolves`);
      }
    }
  }
  return tarballs.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const destination = path.resolve(process.argv[2] ?? path.join(ROOT, '.tmp/tarballs'));
  const tarballs = await packWorkspace(destination);
  process.stdout.write(`${tarballs.map((file) => path.relative(process.cwd(), file)).join('\n')}\n`);
}
