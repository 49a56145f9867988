import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The binaries: PROMETHEUS_BIN / PROMTOOL_BIN, else the first on PATH (Debian puts them in /usr/bin). */
export function findBinary(name: 'prometheus' | 'promtool'): string | undefined {
  const override = process.env[`${name.toUpperCase()}_BIN`];
  if (override) return override;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Why the real-Prometheus tests cannot run here, or undefined when they can. */
export function prometheusUnavailableReason(): string | undefined {
  const missing = (['prometheus', 'promtool'] as const).filter((name) => !findBinary(name));
  return missing.length
    ? `${missing.join(' and ')} not found on PATH: skipping the real-Prometheus tests (apt-get install prometheus; .ci/run installs it)`
    : undefined;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type RunningPrometheus = {
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
};

/**
 * A real Prometheus on a free loopback port with its own temp data dir. With
 * `openMetrics`, that history is first turned into TSDB blocks by promtool.
 * Retention is set long, so backfilled history is never dropped on startup.
 */
export async function startPrometheus(options: {
  readonly openMetrics?: string;
  readonly scrapeTargets?: readonly string[];
  readonly scrapeIntervalSeconds?: number;
}): Promise<RunningPrometheus> {
  const prometheus = findBinary('prometheus');
  const promtool = findBinary('promtool');
  if (!prometheus || !promtool) throw new Error(prometheusUnavailableReason());
  const dir = await mkdtemp(path.join(tmpdir(), 'utt-prometheus-'));
  const dataDir = path.join(dir, 'data');
  if (options.openMetrics !== undefined) {
    // promtool re-reads its whole input for every 2-hour block it writes: one file per day, two at a time, keeps that linear.
    const chunks = splitOpenMetricsByDay(options.openMetrics);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const index = next++;
        const input = path.join(dir, `history-${index}.om`);
        await writeFile(input, chunks[index] as string);
        await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], { maxBuffer: 64 * 1024 * 1024 });
        await rm(input);
      }
    };
    await Promise.all([worker(), worker()]);
  }
  const interval = `${options.scrapeIntervalSeconds ?? 15}s`;
  const scrape = options.scrapeTargets?.length
    ? `scrape_configs:\n  - job_name: litellm\n    scrape_interval: ${interval}\n    scrape_timeout: ${interval}\n    static_configs:\n      - targets: [${options.scrapeTargets.map((target) => JSON.stringify(target)).join(', ')}]\n`
    : '';
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, `global:\n  scrape_interval: ${interval}\n${scrape}`);
  const port = await freePort();
  const child = spawn(
    prometheus,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=3650d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = `${stderr}${chunk}`.slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Splits OpenMetrics text with timestamps into one document per UTC day, each
 * with the family headers it needs and `# EOF`. Families stay contiguous and
 * series keep their order, as the format requires.
 */
export function splitOpenMetricsByDay(text: string): string[] {
  const days = new Map<number, string[]>();
  const emitted = new Map<number, string>();
  let headers: string[] = [];
  let family = '';
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue;
    if (line.startsWith('#')) {
      if (line.startsWith('# HELP ')) headers = [];
      headers.push(line);
      family = headers.join('\n');
      continue;
    }
    const timestamp = Number(line.slice(line.lastIndexOf(' ') + 1));
    const day = Math.floor(timestamp / 86_400);
    let lines = days.get(day);
    if (!lines) days.set(day, (lines = []));
    if (emitted.get(day) !== family) {
      lines.push(family);
      emitted.set(day, family);
    }
    lines.push(line);
  }
  return [...days.keys()].sort((a, b) => a - b).map((day) => `${(days.get(day) as string[]).join('\n')}\n# EOF\n`);
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus did not become ready within 30 s: ${stderr()}`);
}

export type CountingProxy = {
  readonly url: string;
  /** Every request passed on: method, path and query parameters. */
  readonly requests: { method: string; path: string; query: URLSearchParams; authorization: string | undefined }[];
  close(): Promise<void>;
};

/** A transparent HTTP proxy on loopback that records the requests it forwards, to count round trips. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const targetUrl = new URL(target);
  const requests: CountingProxy['requests'] = [];
  const server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://proxy');
    requests.push({ method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: incoming.headers.authorization });
    const forward = httpRequest(
      { hostname: targetUrl.hostname, port: targetUrl.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: targetUrl.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
