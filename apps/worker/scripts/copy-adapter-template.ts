import { cp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEMPLATE = path.join(ROOT, 'templates/adapter');

/**
 * Copies templates/adapter for `utt new-adapter`, leaving out what a build
 * leaves behind and replacing `workspace:` and `catalog:` ranges with the
 * ones `pnpm pack` would publish, so the copy installs outside this repository.
 */
export async function copyAdapterTemplate(destination: URL): Promise<void> {
  const target = fileURLToPath(destination);
  await cp(TEMPLATE, target, {
    recursive: true,
    filter: (source) => !/(^|[\\/])(node_modules|dist|\.turbo)([\\/]|$)|\.tgz$|^turbo\.json$/.test(path.relative(TEMPLATE, source)),
  });
  // npm leaves .gitignore out of packages: ship it under a name it keeps.
  await rename(path.join(target, '.gitignore'), path.join(target, 'gitignore'));
  const manifestFile = path.join(target, 'package.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, Record<string, string> | unknown>;
  // Private in this repository so `changeset publish` leaves it alone; the author's copy is theirs to publish.
  delete manifest.private;
  const catalog = await readCatalog();
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies'] as const) {
    const ranges = manifest[field] as Record<string, string> | undefined;
    for (const [name, range] of Object.entries(ranges ?? {})) {
      if (range.startsWith('workspace:')) ranges![name] = `^${await workspaceVersion(name)}`;
      else if (range === 'catalog:') {
        const value = catalog.get(name);
        if (!value) throw new Error(`templates/adapter: ${name} is "catalog:" but pnpm-workspace.yaml's catalog has no entry for it`);
        ranges![name] = value;
      }
    }
  }
  // A package.json nested in dist would read as a package of its own (publint refuses it): `utt new-adapter` renames it back.
  await writeFile(path.join(target, 'package.template.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(manifestFile);
  // What only the repository's copy says about itself.
  const readme = path.join(target, 'README.md');
  await writeFile(readme, (await readFile(readme, 'utf8')).replace(/<!-- template-only -->[\s\S]*?<!-- \/template-only -->\n\n?/g, ''));
}

async function readCatalog(): Promise<Map<string, string>> {
  const text = await readFile(path.join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^catalog:\n((?:[ \t]+.*\n|\s*\n)*)/m.exec(text)?.[1] ?? '';
  const entries = new Map<string, string>();
  for (const match of block.matchAll(/^\s+"?([^":\s]+)"?:\s*(\S+)\s*$/gm)) entries.set(match[1]!, match[2]!);
  return entries;
}

async function workspaceVersion(name: string): Promise<string> {
  const folder = name.replace(/^@utt\//, '');
  for (const candidate of [`packages/${folder}`, `apps/${folder}`]) {
    try {
      const manifest = JSON.parse(await readFile(path.join(ROOT, candidate, 'package.json'), 'utf8')) as { name: string; version: string };
      if (manifest.name === name) return manifest.version;
    } catch {
      // Not this folder.
    }
  }
  throw new Error(`templates/adapter depends on ${name}, which is not a workspace package`);
}
