/**
 * How long `utt` takes to start, as whole processes, against `node -e 0` (the
 * floor of any Node program) in the same run: `utt --help`, `utt --version`,
 * `utt report` on an empty embedded database and `utt import` of a one-row file
 * into it. With `--url` (a PostgreSQL database), also the one-shot
 * `utt run` that finds nothing new after a cold backfill of the dense Claude
 * Code corpus of bench/agent-logs, and a `utt run` of a source with no files. Each is run several times in turn (so that a slow spell of a shared
 * machine falls on all alike) and the median and the fastest are printed,
 * with the ratio to `node -e 0`. It also prints which packages each command
 * loads (`--trace-startup`-like: a loader hook records every module resolved).
 *
 *   pnpm turbo run build --filter=@utt/worker...
 *   pnpm --filter @utt/bench exec tsx startup/run.ts [--runs 15] [--url postgres://…/db]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '@utt/postgres';
import { cli, fmt, machine, percentile, repoRoot } from '../shared/measure';

const { values: flags } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, url: { type: 'string', default: process.env.UTT_BENCH_DATABASE_URL } },
});
const runs = Number(flags.runs);
const work = mkdtempSync(path.join(tmpdir(), 'utt-bench-startup-'));
const config = path.join(work, 'utt.config.yaml');
writeFileSync(config, 'database:\n  path: pglite\n  schema: utt\nsources: []\n');
const oneRow = path.join(work, 'one.csv');
writeFileSync(oneRow, 'bucket_start,provider,model,input_tokens,output_tokens\n2026-10-01T13:05:00Z,openai,gpt-4o,10,5\n');

type Case = { readonly name: string; readonly args: readonly string[] };
const cases: Case[] = [
  { name: 'node -e 0 (yardstick)', args: ['-e', '0'] },
  { name: 'utt --version', args: [cli, '--version'] },
  { name: 'utt --help', args: [cli, '--help'] },
  { name: 'utt report --help', args: [cli, 'report', '--help'] },
  { name: 'utt report (empty embedded db)', args: [cli, 'report', '--config', config] },
  { name: 'utt import (one row, embedded db)', args: [cli, 'import', oneRow, '--config', config] },
];

// The one-shot run: the dense corpus of bench/agent-logs, backfilled once (untimed) into a schema of
// its own, then `utt run` finds every file's cursor unchanged. And the same command with a source of no files.
const schema = 'bench_startup';
const dense = path.join(repoRoot, 'bench', '.data', 'agent-logs-dense', 'claude', 'projects');
const now = '2026-11-15T12:00:00Z';
let coldBackfill: { ms: number; cpuMs: number } | undefined;
if (flags.url) {
  if (!existsSync(dense)) throw new Error(`--url needs the dense corpus at ${dense}: run bench/agent-logs once with --shape dense`);
  const empty = path.join(work, 'no-transcripts');
  mkdirSync(empty);
  const source = (paths: string, name: string) =>
    `database:\n  url: ${flags.url}\n  schema: ${name}\nsources:\n  - name: claude\n    adapter: "@utt/adapter-claude-code"\n    config:\n      instance: bench\n      paths: [${JSON.stringify(paths)}]\n`;
  writeFileSync(path.join(work, 'dense.yaml'), source(dense, schema));
  writeFileSync(path.join(work, 'empty.yaml'), source(empty, `${schema}_empty`));
  for (const name of [schema, `${schema}_empty`]) {
    const store = await openStore({ url: flags.url, schema: name, migrate: false });
    await store.client.exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await store.migrate();
    await store.close();
  }
  coldBackfill = timeOnce([cli, 'backfill', '--source', 'claude', '--since', '2026-09-01', '--now', now, '--config', path.join(work, 'dense.yaml')]);
  cases.push(
    { name: 'utt run (nothing new, 3,362 files)', args: [cli, 'run', '--now', now, '--config', path.join(work, 'dense.yaml')] },
    { name: 'utt run (a source of no files)', args: [cli, 'run', '--now', now, '--config', path.join(work, 'empty.yaml')] },
  );
}

/** One whole process: wall time, and its CPU time (user + system) from /usr/bin/time. */
function timeOnce(args: readonly string[]): { ms: number; cpuMs: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '__TIME__ %U %S', process.execPath, ...args], { cwd: work, env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const match = /__TIME__ ([\d.]+) ([\d.]+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`node ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { ms, cpuMs: (Number(match[1]) + Number(match[2])) * 1000 };
}

/**
 * For the two instrumented runs below: dist/cli.js finds no dist/cli-bundle.cjs and imports the ES build, whose modules
 * (and pg) the hooks see one by one. The bundle runs the same code: what it compiles is what these runs load.
 */
const HIDE_CLI_BUNDLE = [
  "{ const fs = process.getBuiltinModule('node:fs'); const read = fs.readFileSync;",
  "  fs.readFileSync = function (file, ...rest) { if (String(file).endsWith('cli-bundle.cjs')) throw Object.assign(new Error('hidden by the bench'), { code: 'ENOENT' }); return read.call(this, file, ...rest); }; }",
].join('\n');

/**
 * How many statements a command sends, each a round trip on its critical
 * path: a preload wraps `Client.query` of whichever pg the command loads
 * (@utt/postgres's bundled dist/pg-driver.cjs, or pg itself). On Node < 22.1
 * the CLI runs as one CommonJS bundle with pg inlined, out of this hook's
 * reach: the preload hides the bundle, so that dist/cli.js runs the ES build
 * (the same code and statements, loaded module by module).
 */
function statementsSent(args: readonly string[]): number {
  const hook = path.join(work, 'count-statements.cjs');
  writeFileSync(
    hook,
    [
      "const Module = require('node:module');",
      HIDE_CLI_BUNDLE,
      'const load = Module.prototype.require;',
      'let count = 0;',
      'Module.prototype.require = function (id) {',
      '  const loaded = load.apply(this, arguments);',
      "  if ((id === 'pg' || /pg-driver\\.cjs$/.test(id)) && loaded && loaded.Client && !loaded.Client.prototype.uttCounted) {",
      '    const query = loaded.Client.prototype.query;',
      '    loaded.Client.prototype.uttCounted = true;',
      '    loaded.Client.prototype.query = function () { count += 1; return query.apply(this, arguments); };',
      '  }',
      '  return loaded;',
      '};',
      "process.on('exit', () => process.stderr.write(`__STATEMENTS__ ${count}\\n`));",
    ].join('\n'),
  );
  const result = spawnSync(process.execPath, ['--require', hook, ...args], { cwd: work, env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' });
  const match = /__STATEMENTS__ (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`node ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return Number(match[1]);
}

/** The node_modules packages and workspace packages a command loads, from a resolve hook (the ES build's, see HIDE_CLI_BUNDLE). */
function packagesLoaded(args: readonly string[]): string[] {
  const hooks = path.join(work, 'resolve-hooks.mjs');
  writeFileSync(
    hooks,
    [
      "import { appendFileSync } from 'node:fs';",
      'export async function resolve(specifier, context, next) {',
      '  const result = await next(specifier, context);',
      "  appendFileSync(process.env.UTT_BENCH_TRACE, result.url + '\\n');",
      '  return result;',
      '}',
    ].join('\n'),
  );
  const hook = path.join(work, 'register-hooks.mjs');
  // The resolve hook sees ES modules; the CommonJS ones (pg is loaded with require) are listed from the require cache at exit.
  writeFileSync(
    hook,
    [
      "import { appendFileSync } from 'node:fs';",
      "import { createRequire, register } from 'node:module';",
      HIDE_CLI_BUNDLE,
      `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
      'const cache = createRequire(import.meta.url).cache;',
      "process.on('exit', () => appendFileSync(process.env.UTT_BENCH_TRACE, Object.keys(cache).join('\\n') + '\\n'));",
    ].join('\n'),
  );
  const trace = path.join(work, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(trace, '');
  spawnSync(process.execPath, ['--import', hook, ...args], { cwd: work, env: { ...process.env, TZ: 'UTC', UTT_BENCH_TRACE: trace }, encoding: 'utf8' });
  const urls = spawnSync('sort', ['-u', trace], { encoding: 'utf8' }).stdout.split('\n');
  const packages = new Set<string>();
  for (const url of urls) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'node_modules/')) ?? /\/(packages|apps)\/([^/]+)\//.exec(url);
    if (match) packages.add(match[1] === 'packages' || match[1] === 'apps' ? `@utt/${match[2]}` : (match[1] as string));
  }
  return [...packages].sort();
}

console.log(`machine: ${machine()}`);
console.log(`${runs} runs of each, taking turns; milliseconds per whole process (wall, and CPU user + system)`);
// One untimed round first: the embedded database is created and migrated by the first command that opens it.
for (const item of cases) timeOnce(item.args);
const times = new Map<string, Array<{ ms: number; cpuMs: number }>>(cases.map((item) => [item.name, []]));
const loads = [loadavg()[0] as number];
for (let run = 0; run < runs; run++) {
  for (const item of cases) times.get(item.name)?.push(timeOnce(item.args));
  loads.push(loadavg()[0] as number);
}

const floor = percentile((times.get(cases[0]?.name as string) ?? []).map((time) => time.ms), 50);
console.log(`load average (1 min) before and after each round: ${loads.map((value) => value.toFixed(1)).join(', ')}`);
console.log(`\n${'command'.padEnd(36)} ${'median'.padStart(8)} ${'fastest'.padStart(8)} ${'CPU'.padStart(8)}  median / node -e 0`);
for (const item of cases) {
  const values = times.get(item.name) ?? [];
  const median = percentile(values.map((time) => time.ms), 50);
  const cpu = percentile(values.map((time) => time.cpuMs), 50);
  console.log(`${item.name.padEnd(36)} ${fmt(median, 0).padStart(8)} ${fmt(Math.min(...values.map((time) => time.ms)), 0).padStart(8)} ${fmt(cpu, 0).padStart(8)}  ${fmt(median / floor, 2)}×`);
}
if (coldBackfill) {
  const oneShot = percentile((times.get('utt run (nothing new, 3,362 files)') ?? []).map((time) => time.ms), 50);
  const help = percentile((times.get('utt --help') ?? []).map((time) => time.ms), 50);
  const verdict = (share: number) => (share < 10 ? 'met' : 'NOT met');
  console.log(
    `\nthe cold backfill that filled the schema (one run): ${fmt(coldBackfill.ms, 0)} ms (CPU ${fmt(coldBackfill.cpuMs, 0)} ms); issue #12 item 4, target < 10 % of it: ` +
      `the nothing-new run's median ${fmt((100 * oneShot) / coldBackfill.ms, 1)} % (${verdict((100 * oneShot) / coldBackfill.ms)}), utt --help's median ${fmt((100 * help) / coldBackfill.ms, 1)} % (${verdict((100 * help) / coldBackfill.ms)}) (bench/agent-logs prints both shares run by run)`,
  );
}
if (flags.url) {
  const counts = cases.filter((item) => item.name.startsWith('utt run')).map((item) => `${item.name}: ${statementsSent(item.args)}`);
  console.log(`\nstatements sent to PostgreSQL after connecting (pg's Client.query, counted in the process): ${counts.join('; ')}`);
}
console.log('\npackages loaded:');
for (const item of cases.slice(1)) console.log(`  ${item.name}: ${packagesLoaded(item.args).join(', ') || '(none)'}`);
rmSync(work, { recursive: true, force: true });
if (flags.url) {
  const store = await openStore({ url: flags.url, schema, migrate: false });
  for (const name of [schema, `${schema}_empty`]) await store.client.exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await store.close();
}
