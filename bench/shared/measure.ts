// Helpers the database benchmarks share: whole-process timing, percentiles, the machine.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// UTT_BENCH_CLI: another build's dist/cli.js (another checkout's), to time it against this one in turns.
export const cli = process.env.UTT_BENCH_CLI ?? path.join(repoRoot, 'apps', 'worker', 'dist', 'cli.js');

/** Runs a command under /usr/bin/time: wall seconds, CPU seconds (user + system) and peak RSS (KB) of the whole process. */
export function timedProcess(command: string, args: readonly string[], options: { cwd?: string; allowExit?: readonly number[] } = {}): {
  seconds: number;
  cpuSeconds: number;
  maxRssKb: number;
  stdout: string;
} {
  const result = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const match = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr);
  const allowed = options.allowExit ?? [0];
  if (!match || !allowed.includes(result.status ?? -1)) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return { seconds: Number(match[1]), cpuSeconds: Number(match[3]) + Number(match[4]), maxRssKb: Number(match[2]), stdout: result.stdout };
}

/** Milliseconds an async call takes. */
export async function elapsed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** The p-th percentile (nearest rank) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(1))
    .join(' ')}${extraCertificatesNote()}`;
}

/**
 * Node loads the certificates NODE_EXTRA_CA_CERTS names before any JavaScript
 * runs, in every process it starts (utt's and a yardstick's alike): a bundle
 * of a hundred or so certificates adds about 35 ms to each start (`node -e 0`: 60 ms against 26, measured on
 * a sandbox that sets it; bench/startup/README.md). Not a default, so said.
 */
function extraCertificatesNote(): string {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  return file ? `; NODE_EXTRA_CA_CERTS=${file} is set: every Node process here starts about 35 ms later (run under \`env -u NODE_EXTRA_CA_CERTS\` for Node's default)` : '';
}

export const fmt = (value: number, digits = 1): string => value.toFixed(digits);

/** The 1-, 5- and 15-minute load averages, for figures taken on a shared machine. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
}
