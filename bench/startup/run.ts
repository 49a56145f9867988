/**
 * How long `utt` takes to start, as whole processes, against `node -e 0` (the
 * floor of any Node program) in the same run: `utt --help`, `utt --version`,
 * `utt report` on an empty embedded database and `utt import` of a one-row file
 * into it. Each is run several times in turn (so that a slow spell of a shared
 * machine falls on all alike) and the median and the fastest are printed,
 * with the ratio to `node -e 0`. It also prints which packages each command
 * loads (`--trace-startup`-like: a loader hook records every module resolved).
 *
 *   pnpm turbo run build --filter=@utt/worker...
 *   pnpm --filter @utt/bench exec tsx startup/run.ts [--runs 15]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cli, fmt, machine, percentile } from '../shared/measure';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
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

function timeOnce(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: work, env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return ms;
}

/** The node_modules packages and workspace packages a command loads, from a resolve hook. */
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
  writeFileSync(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
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
console.log(`${runs} runs of each, taking turns; milliseconds of wall time per whole process`);
// One untimed round first: the embedded database is created and migrated by the first command that opens it.
for (const item of cases) timeOnce(item.args);
const times = new Map<string, number[]>(cases.map((item) => [item.name, []]));
for (let run = 0; run < runs; run++) for (const item of cases) times.get(item.name)?.push(timeOnce(item.args));

const floor = percentile(times.get(cases[0]?.name as string) ?? [], 50);
console.log(`\n${'command'.padEnd(36)} ${'median'.padStart(8)} ${'fastest'.padStart(8)}  median / node -e 0`);
for (const item of cases) {
  const values = times.get(item.name) ?? [];
  const median = percentile(values, 50);
  console.log(`${item.name.padEnd(36)} ${fmt(median, 0).padStart(8)} ${fmt(Math.min(...values), 0).padStart(8)}  ${fmt(median / floor, 2)}×`);
}
console.log('\npackages loaded:');
for (const item of cases.slice(1)) console.log(`  ${item.name}: ${packagesLoaded(item.args).join(', ') || '(none)'}`);
rmSync(work, { recursive: true, force: true });
