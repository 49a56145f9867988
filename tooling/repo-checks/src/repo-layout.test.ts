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

  it('tracker depends on core and pricing only, and its main entry loads no provider SDK', () => {
    const tracker = packages.find(({ manifest }) => manifest.name === '@utt/tracker');
    expect(tracker && workspaceDeps(tracker.manifest).sort()).toEqual(['@utt/core', '@utt/pricing']);
    for (const sdk of Object.keys(tracker?.manifest.peerDependencies ?? {})) {
      expect(tracker?.manifest.dependencies?.[sdk], sdk).toBeUndefined();
    }
    for (const file of sourceFiles('packages/tracker').filter((name) => !name.includes('/integrations/') && !name.includes('/test-support/'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from ['"](openai|@anthropic-ai\/sdk|ai|@google\/genai|@utt\/postgres)['"]/);
    }
  });

  it('postgres depends on core only', () => {
    const store = packages.find(({ manifest }) => manifest.name === '@utt/postgres');
    expect(store && workspaceDeps(store.manifest)).toEqual(['@utt/core']);
  });

  it('dashboard reads through postgres only; the quota and budget rules it shows come from core and tracker, not copies', () => {
    const dashboard = packages.find(({ manifest }) => manifest.name === '@utt/dashboard');
    expect(dashboard && [...workspaceDeps(dashboard.manifest)].sort()).toEqual(['@utt/core', '@utt/postgres', '@utt/tracker']);
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
    // Declarations are their own task (typecheck and publishing need them, pnpm start does not).
    expect(manifest.scripts?.['build:types']).toBe('tsup --dts-only');
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

describe('pnpm start', () => {
  // A first run builds the worker and, in dependency order, every workspace
  // package it depends on: its CommonJS bundle (apps/worker/scripts/build-cli-bundle.ts)
  // inlines them all, so each must be built before it (`--only` would build
  // a list side by side, and a package missing from it would fail the bundle).
  // Declarations wait for `pnpm build`.
  it('builds the worker after every package it depends on, every adapter the example config names among them', () => {
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
    for (const script of ['start', 'serve', 'create-adapter']) {
      const command = root.scripts?.[script] ?? '';
      expect(command, script).toContain('turbo run build --filter=@utt/worker... ');
      expect(command, script).not.toContain('--only');
    }
    const worker = JSON.parse(readFileSync(path.join(ROOT, 'apps/worker/package.json'), 'utf8')) as Manifest;
    const built = new Set(['@utt/worker']);
    for (let pending = workspaceDeps(worker); pending.length > 0; ) {
      const name = pending.pop()!;
      if (built.has(name)) continue;
      built.add(name);
      const dependency = packages.find(({ manifest }) => manifest.name === name);
      if (dependency) pending.push(...workspaceDeps(dependency.manifest));
    }
    const imported = new Set<string>();
    for (const file of sourceFiles('apps/worker')) {
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from |import\()'(@utt\/[a-z0-9-]+)'/g)) imported.add(match[1]!);
    }
    const example = readFileSync(path.join(ROOT, 'examples/utt.config.yaml'), 'utf8');
    for (const match of example.matchAll(/^\s+adapter: "(@utt\/[a-z0-9-]+)"/gm)) imported.add(match[1]!);
    expect([...imported].filter((name) => !built.has(name))).toEqual([]);
  });
});

describe('docs/writing-an-adapter.md', () => {
  // Each code block that names a file is that file of templates/adapter, which
  // CI builds and runs the conformance kit on: the guide runs, so it cannot rot.
  const guide = readFileSync(path.join(ROOT, 'docs/writing-an-adapter.md'), 'utf8');
  const blocks = [...guide.matchAll(/```(?:ts|jsonc)\n\/\/ (src\/[^\n]+)\n([\s\S]*?)\n```/g)].map((match) => ({ file: match[1]!, code: match[2]! }));

  it('shows the adapter, its config, entry, test and fixture', () => {
    expect(blocks.map(({ file }) => file).sort()).toEqual(
      ['src/__fixtures__/usage-page.json', 'src/acme-adapter.test.ts', 'src/acme-adapter.ts', 'src/acme-config.ts', 'src/index.ts'].sort(),
    );
  });

  it.each(blocks.map(({ file, code }) => [file, code] as const))('%s is the template file, verbatim', (file, code) => {
    expect(code).toBe(readFileSync(path.join(ROOT, 'templates/adapter', file), 'utf8').replace(/\n$/, ''));
  });

  it('passes a key one way: a config value filled from the environment', () => {
    expect(guide).toContain('apiKey: "${ACME_API_KEY}"');
    expect(guide).not.toMatch(/KeyEnv|env\.[A-Z_]+_KEY/);
  });
});

describe('the first release', () => {
  // `changeset version` turns the pending changesets into versions: every
  // publishable package still at 0.0.0 must come out at exactly 0.1.0.
  const bumps = new Map<string, string>();
  for (const file of readdirSync(path.join(ROOT, '.changeset')).filter((name) => name.endsWith('.md'))) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(path.join(ROOT, '.changeset', file), 'utf8'))?.[1] ?? '';
    for (const match of front.matchAll(/^"([^"]+)":\s*(major|minor|patch)\s*$/gm)) {
      const order = ['patch', 'minor', 'major'];
      const previous = bumps.get(match[1]!);
      if (!previous || order.indexOf(match[2]!) > order.indexOf(previous)) bumps.set(match[1]!, match[2]!);
    }
  }
  const publishable = [...packages, ...manifests('apps')].filter(({ manifest }) => manifest.private !== true);

  it.each(publishable.map(({ dir, manifest }) => [dir, manifest] as const))('%s is released as 0.1.0', (_dir, manifest) => {
    const version = (manifest as Manifest & { version?: string }).version;
    if (version !== '0.0.0') return; // Released already: later changesets bump from there.
    expect(bumps.get(manifest.name)).toBe('minor');
  });

  it('names only packages that exist and can be published', () => {
    const names = new Set(publishable.map(({ manifest }) => manifest.name));
    expect([...bumps.keys()].filter((name) => !names.has(name))).toEqual([]);
  });
});
