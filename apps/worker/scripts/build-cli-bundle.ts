import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { appendFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Options } from 'tsup';

const WORKER = fileURLToPath(new URL('../', import.meta.url));
const PATHS_HELPER = path.join(WORKER, 'src/bundle/bundled-package-paths.ts');
const IMPORT_MODULE = path.join(WORKER, 'src/bundle/import-module.ts');
/** Third-party dependencies of the worker inlined as well (the config's YAML parser, on every command's path); checked like first-party ones. */
const INLINED_WORKER_DEPENDENCIES = new Set(['js-yaml']);

/** The line the launcher reads at the end of the bundle: its content hash and the first-party packages (and versions) inlined. */
export const BUNDLE_TRAILER_PREFIX = '//# utt-bundle ';

/**
 * Builds dist/cli-bundle.cjs: the CLI (src/cli-main.ts, every command) and the
 * first-party packages it imports (@utt/core, postgres, agent-logs, the
 * adapters…) as ONE CommonJS file. On Node < 22.1, which has no compile cache
 * for ES modules, dist/cli.js runs it through vm.Script with V8's cached data
 * (src/bundle/run-cached-bundle.ts): a nothing-new `utt run` then skips most
 * of its parsing and compiling (bench/startup/README.md).
 *
 * Third-party packages stay where they are installed: the worker's own
 * dependencies (js-yaml) are required from dist/; a first-party package's
 * `import()` of its own dependency (PGlite, pg-copy-streams, genai-prices) and
 * its `import.meta.url` are rewritten to go through the installed copy of that
 * package (bundled-package-paths.ts), so worker-thread scripts, pg's bundled
 * driver and data files are the installed package's own.
 */
export async function buildCliBundle(base: Options): Promise<void> {
  const bundled = new Map<string, string>();
  // Which package's import brought each first-party package in: the launcher finds it installed from there, as Node would.
  const importedFrom = new Map<string, string>();
  await build({
    ...base,
    config: false,
    entry: { 'cli-bundle': 'src/cli-main.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    splitting: false,
    // No source map: 3.4 MB more in the package for a file that is readable as it is (unminified, with each source's path).
    sourcemap: false,
    clean: false,
    noExternal: [/^@utt\//, ...[...INLINED_WORKER_DEPENDENCIES].map((name) => new RegExp(`^${name}(/|$)`))],
    onSuccess: undefined,
    silent: true,
    esbuildPlugins: [
      {
        name: 'utt-cli-bundle',
        setup(esbuild) {
          const workerManifest = readManifest(WORKER);
          esbuild.onResolve({ filter: /^[^./]/ }, (args) => {
            if (isBuiltin(args.path)) return undefined;
            const owner = owningPackage(args.importer);
            if (args.pluginData === 'inlined') return undefined;
            if (INLINED_WORKER_DEPENDENCIES.has(packageName(args.path))) {
              const name = packageName(args.path);
              const folder = realpathSync(path.join(WORKER, 'node_modules', name));
              bundled.set(name, readManifest(folder).version!);
              importedFrom.set(name, '@utt/worker');
              // From the worker's folder, whoever imports it: the launcher checks that copy's version.
              return esbuild.resolve(args.path, { kind: args.kind, resolveDir: WORKER, pluginData: 'inlined' });
            }
            if (args.path.startsWith('@utt/')) {
              const name = packageName(args.path);
              if (owner !== undefined && owner.manifest.name !== name && !importedFrom.has(name)) importedFrom.set(name, owner.manifest.name!);
              return undefined;
            }
            if (owner === undefined || owner.root === realpathSync(WORKER)) return { path: args.path, external: true };
            // A first-party package's static import of a third-party package: required from dist/, so the worker must depend on it too, with the same range.
            const name = packageName(args.path);
            const range = owner.manifest.dependencies?.[name];
            if (range !== undefined && workerManifest.dependencies?.[name] === range) return { path: args.path, external: true };
            return { errors: [{ text: `${owner.manifest.name} imports ${args.path}: add it to @utt/worker's dependencies with the range ${range}, or load it with import()` }] };
          });
          esbuild.onLoad({ filter: /\.(c?js|ts)$/ }, async (args) => {
            if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
            const owner = owningPackage(args.path);
            if (owner === undefined) return undefined;
            // The launcher's import(): vm.Script's own needs a flag on Node 20 (see import-module.ts).
            if (args.path === IMPORT_MODULE) return { contents: 'export function importModule(specifier) { return __uttImport(specifier); }', loader: 'js' };
            let text = await readFile(args.path, 'utf8');
            const loader = args.path.endsWith('.ts') ? 'ts' : 'js';
            if (owner.root === realpathSync(WORKER)) {
              if (!text.includes('import.meta.url')) return undefined;
              return { contents: text.replaceAll('import.meta.url', 'require("node:url").pathToFileURL(__filename).href'), loader };
            }
            const name = owner.manifest.name!;
            bundled.set(name, owner.manifest.version!);
            const file = path.relative(owner.root, args.path).split(path.sep).join('/');
            const dependencyImport = /\bimport\(\s*"([^"]+)"\s*\)/g;
            const dependencyRequire = /\brequire\(\s*"([^"]+)"\s*\)/g;
            const rewritten = text
              // @utt/postgres requires its bundled pg (dist/pg-driver.cjs) through createRequire(import.meta.url): a plain require inlines it too.
              .replace(/\b[\w$]+\("\.\/pg-driver\.cjs"\)/g, 'require("./pg-driver.cjs")')
              .replace(dependencyRequire, (call, specifier: string) =>
                specifier.startsWith('.') || specifier.startsWith('@utt/') || isBuiltin(specifier) || INLINED_WORKER_DEPENDENCIES.has(packageName(specifier))
                  ? call
                  : `__uttRequireDependencyOf(${JSON.stringify(name)}, ${JSON.stringify(specifier)})`,
              )
              .replaceAll('import.meta.url', `__uttBundledPackageFileUrl(${JSON.stringify(name)}, ${JSON.stringify(file)})`)
              .replace(dependencyImport, (call, specifier: string) => {
                if (specifier.startsWith('.') || specifier.startsWith('@utt/')) return call;
                return isBuiltin(specifier) ? `__uttImportModule(${JSON.stringify(specifier)})` : `__uttImportDependencyOf(${JSON.stringify(name)}, ${JSON.stringify(specifier)})`;
              });
            if (rewritten === text) return undefined;
            if (args.path.endsWith('.cjs')) {
              // CommonJS stays CommonJS: an import statement would turn it into an ES module.
              return { contents: `const { requireDependencyOf: __uttRequireDependencyOf } = require(${JSON.stringify(PATHS_HELPER)});\n${rewritten}`, loader, resolveDir: path.dirname(args.path) };
            }
            text =
              `import { bundledPackageFileUrl as __uttBundledPackageFileUrl, importDependencyOf as __uttImportDependencyOf, requireDependencyOf as __uttRequireDependencyOf } from ${JSON.stringify(PATHS_HELPER)};\n` +
              `import { importModule as __uttImportModule } from ${JSON.stringify(IMPORT_MODULE)};\n${rewritten}`;
            return { contents: text, loader, resolveDir: path.dirname(args.path) };
          });
        },
      },
    ],
  });
  const file = path.join(WORKER, 'dist/cli-bundle.cjs');
  const source = await readFile(file, 'utf8');
  // An import() left in the bundle would fail at run time (see import-module.ts); "import()" in a message is not a call.
  const call = /\bimport\((?!\))/.exec(source);
  if (call) throw new Error(`${file}: an import() call at offset ${call.index} (${source.slice(call.index, call.index + 60)}): go through src/bundle/import-module.ts`);
  const content = Buffer.from(escapeNonAscii(source, file));
  await writeFile(file, content);
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 32);
  const packages = Object.fromEntries(
    [...bundled].sort(([a], [b]) => a.localeCompare(b)).map(([name, version]) => [name, { version, from: importedFrom.get(name) ?? '@utt/worker' }]),
  );
  await appendFile(file, `\n${BUNDLE_TRAILER_PREFIX}${JSON.stringify({ hash, packages })}\n`);
}

type Manifest = { name?: string; version?: string; dependencies?: Record<string, string> };

const owners = new Map<string, { root: string; manifest: Manifest } | undefined>();

/** The first-party package (a folder of this repository outside node_modules) a file belongs to. */
function owningPackage(file: string): { root: string; manifest: Manifest } | undefined {
  const directory = path.dirname(realpathSync(file));
  if (owners.has(directory)) return owners.get(directory);
  let found: { root: string; manifest: Manifest } | undefined;
  for (let candidate = directory; path.dirname(candidate) !== candidate; candidate = path.dirname(candidate)) {
    if (path.basename(candidate) === 'node_modules') break;
    try {
      const manifest = readManifest(candidate);
      if (manifest.name === '@utt/worker' || manifest.name?.startsWith('@utt/')) found = { root: candidate, manifest };
      break;
    } catch {
      // no package.json here: look further up
    }
  }
  owners.set(directory, found);
  return found;
}

function readManifest(folder: string): Manifest {
  return JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as Manifest;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The bundle in ASCII, so that the launcher reads it as a one-byte string
 * instead of decoding 1.4 MB of UTF-8 (4–6 ms a start). esbuild leaves
 * non-ASCII characters in comments and template literals (the dashboard's
 * html`…`); each UTF-16 unit becomes `\uXXXX`, which means the same character
 * in a string, template or regular expression and is harmless in a comment.
 * Not after a backslash (`\·` would become an escaped backslash) and not in
 * code that reads a template's raw text: the build stops if it finds either.
 */
function escapeNonAscii(source: string, file: string): string {
  if (/String\.raw/.test(source)) throw new Error(`${file}: String.raw would see \\u escapes of non-ASCII characters`);
  return source.replace(/[^\x00-\x7f]/g, (character, offset: number) => {
    if (source[offset - 1] === '\\') throw new Error(`${file}: a backslash before a non-ASCII character at offset ${offset}`);
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * Builds dist/cli.js, the `utt` command: src/cli.ts and the bundle's launcher
 * (src/bundle/run-cached-bundle.ts) as CommonJS, and dist/package.json, which
 * makes Node read dist/*.js as CommonJS (the package's own says "module"; the
 * ES build is dist/*.mjs). A CommonJS entry point spares each process the
 * set-up of Node's ES module loader (bench/startup/README.md, issue-12y).
 */
export async function buildLauncher(base: Options): Promise<void> {
  await build({
    ...base,
    config: false,
    entry: { cli: 'src/cli.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.js' }),
    splitting: false,
    clean: false,
    onSuccess: undefined,
    silent: true,
  });
  await writeFile(path.join(WORKER, 'dist/package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
  const launcher = path.join(WORKER, 'dist/cli.js');
  const source = await readFile(launcher, 'utf8');
  // The ES build must be imported, not required (esbuild would turn an import() it cannot keep into a require()).
  if (!source.includes('import("./cli-main.mjs")') && !source.includes('import(ES_BUILD)')) throw new Error(`${launcher}: the ES build is no longer loaded with import()`);
  await chmod(launcher, 0o755);
}
