import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type Manifest = {
  name: string;
  private?: boolean;
  type?: string;
  sideEffects?: boolean;
  keywords?: string[];
  exports?: Record<string, unknown>;
  files?: string[];
  engines?: { node?: string };
  license?: string;
  publishConfig?: { access?: string };
  repository?: { directory?: string };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

function manifests(folder: string): Array<{ dir: string; manifest: Manifest }> {
  const base = path.join(ROOT, folder);
  return readdirSync(base)
    .filter((name) => existsSync(path.join(base, name, 'package.json')))
    .map((name) => ({
      dir: `${folder}/${name}`,
      manifest: JSON.parse(readFileSync(path.join(base, name, 'package.json'), 'utf8')) as Manifest,
    }));
}

const packages = manifests('packages');
const adapters = packages.filter(({ manifest }) => /^@utt\/adapter-/.test(manifest.name) && manifest.name !== '@utt/adapter-testkit');
const workspaceDeps = (manifest: Manifest) => Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@utt/'));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) out.push(full);
    }
  };
  walk(path.join(ROOT, dir, 'src'));
  return out;
}

describe('dependency direction: adapters → core, postgres → core, worker → everything', () => {
  it('core depends on no workspace package', () => {
    const core = packages.find(({ manifest }) => manifest.name === '@utt/core');
    expect(core && workspaceDeps(core.manifest)).toEqual([]);
  });

  it.each(adapters.map(({ dir, manifest }) => [dir, manifest] as const))('%s depends on @utt/core only (agent adapters also on @utt/agent-logs)', (dir, manifest) => {
    // Coding-agent adapters share one transcript scanner instead of copying it three times.
    expect(workspaceDeps(manifest).filter((name) => name !== '@utt/agent-logs')).toEqual(['@utt/core']);
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from ['"]@utt\/(postgres|adapter-(?!testkit)[a-z-]+)['"]/);
    }
  });

  it('postgres depends on core only', () => {
    const store = packages.find(({ manifest }) => manifest.name === '@utt/postgres');
    expect(store && workspaceDeps(store.manifest)).toEqual(['@utt/core']);
  });

  it('dashboard reads through postgres only', () => {
    const dashboard = packages.find(({ manifest }) => manifest.name === '@utt/dashboard');
    expect(dashboard && workspaceDeps(dashboard.manifest)).toEqual(['@utt/postgres']);
  });
});

describe.each(packages.map(({ dir, manifest }) => [dir, manifest] as const))('%s is publishable', (dir, manifest) => {
  it('is an ESM package with a correct exports map, files whitelist and engines', () => {
    expect(manifest.name).toMatch(/^@utt\/[a-z0-9-]+$/);
    expect(manifest.private).not.toBe(true);
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.license).toBe('MIT');
    expect(manifest.publishConfig?.access).toBe('public');
    expect(manifest.repository?.directory).toBe(dir);
    expect(manifest.engines?.node).toBeTruthy();
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
    const root = manifest.exports?.['.'] as Record<string, string>;
    expect(Object.keys(root)[0]).toBe('types');
    expect(Object.keys(root).at(-1)).toBe('default');
    expect(manifest.scripts?.['lint:package']).toContain('publint --strict');
    expect(manifest.scripts?.['lint:package']).toContain('attw --pack');
  });

  it('has a README with a runnable example and the standard sections', () => {
    const readme = readFileSync(path.join(ROOT, dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# /);
    expect(readme).toMatch(/^## Install/m);
    expect(readme).toMatch(/^## Usage/m);
    expect(readme).toMatch(/```(ts|typescript|js)/);
    expect(readme).toMatch(/^## License/m);
  });

  it('names its exports in index.ts (no export *)', () => {
    const index = readFileSync(path.join(ROOT, dir, 'src/index.ts'), 'utf8');
    expect(index).not.toMatch(/export \* from/);
  });
});

describe.each(adapters.map(({ dir, manifest }) => [dir, manifest] as const))('%s follows the adapter conventions', (dir, manifest) => {
  it('carries the utt-adapter keyword and runs the conformance kit', () => {
    expect(manifest.keywords).toContain('utt-adapter');
    expect(manifest.devDependencies?.['@utt/adapter-testkit']).toBeDefined();
    const tests = readdirSync(path.join(ROOT, dir, 'src'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => readFileSync(path.join(ROOT, dir, 'src', file), 'utf8'));
    expect(tests.some((text) => text.includes('describeUsageAdapterConformance'))).toBe(true);
  });

  it('documents configuration, capabilities and data mapping', () => {
    const readme = readFileSync(path.join(ROOT, dir, 'README.md'), 'utf8');
    for (const heading of ['Configuration', 'Capabilities', 'Data mapping', 'Errors']) {
      expect(readme, heading).toMatch(new RegExp(`^## ${heading}`, 'm'));
    }
  });
});

describe('the repository', () => {
  it('keeps the README set-up and CI on the same test command', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(readme).toContain('pnpm install && pnpm start');
    expect(readme).toContain('pnpm test');
    expect(ci.trim().split('\n').at(-1)).toBe('pnpm test');
  });

  it('pins TypeScript below 7 (tsup declarations break on 7)', () => {
    const workspace = readFileSync(path.join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
    expect(workspace).toMatch(/typescript: \^6\./);
  });
});
