import { prepareSources } from '../cycle/prepare-sources';
import { cycleExitCode, runCycle } from '../cycle/run-cycle';
import { EXIT_OK } from '../exit-codes';
import { formatCycle } from '../output/format-cycle';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseDurationFlag, parseTimeFlag, UsageError } from './parse-time-flag';
import { printReport } from './report-command';

/** `utt run`: one cycle over every enabled source (or `--source NAME`). */
export async function runCommand(runtime: Runtime, flags: { source?: string; report?: boolean; now?: Date }): Promise<number> {
  const prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd, only: flags.source });
  const store = await openConfiguredStore(runtime);
  try {
    const controller = new AbortController();
    const result = await runCycle(runtime, store, prepared, { signal: controller.signal, now: flags.now });
    process.stdout.write(`${formatCycle(result)}\n`);
    if (flags.report) {
      process.stdout.write('\n');
      await printReport(store, { period: 'month', by: 'source' });
    }
    return cycleExitCode(result);
  } finally {
    await store.close();
  }
}

/** `utt backfill --source NAME --since ISO [--until ISO]`: one window, exactly as asked. */
export async function backfillCommand(
  runtime: Runtime,
  flags: { source?: string; since?: string; until?: string; now?: Date },
): Promise<number> {
  if (!flags.source) throw new UsageError('backfill needs --source NAME');
  const since = parseTimeFlag('since', flags.since, flags.now, 'backfill');
  if (!since) throw new UsageError('backfill needs --since ISO');
  const until = parseTimeFlag('until', flags.until, flags.now, 'backfill');
  if (until && until <= since) throw new UsageError('--until must be after --since');
  const prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd, only: flags.source });
  const store = await openConfiguredStore(runtime);
  try {
    const result = await runCycle(runtime, store, prepared, { signal: new AbortController().signal, now: flags.now, range: { since, until } });
    process.stdout.write(`${formatCycle(result)}\n`);
    return cycleExitCode(result);
  } finally {
    await store.close();
  }
}

/**
 * `utt daemon`: a cycle every interval until SIGTERM or SIGINT. A signal
 * aborts the cycle in flight (its open transaction rolls back, so nothing
 * half-written stays) and the process exits 0.
 */
export async function daemonCommand(runtime: Runtime, flags: { interval?: string }): Promise<number> {
  const intervalMs = parseDurationFlag('interval', flags.interval, 'daemon') ?? runtime.loaded.config.worker.interval;
  // Every cycle calls each provider: a typo must not become a request storm.
  // UTT_DAEMON_MIN_INTERVAL lowers the floor for tests and demos against fakes.
  const floorMs = parseDurationFlag('UTT_DAEMON_MIN_INTERVAL', runtime.env.UTT_DAEMON_MIN_INTERVAL, 'daemon') ?? 60_000;
  if (intervalMs < floorMs) {
    const given = flags.interval === undefined ? `worker.interval in ${runtime.loaded.file}` : `--interval ${flags.interval}`;
    const floor = floorMs === 60_000 ? 'a minute' : runtime.env.UTT_DAEMON_MIN_INTERVAL;
    throw new UsageError(`daemon: ${given} is shorter than ${floor}, the least the daemon waits between cycles (use utt run for a single cycle)`, 'daemon');
  }
  const prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd });
  const store = await openConfiguredStore(runtime);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    runtime.logger.info(`received ${signal}, stopping`);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  runtime.logger.info(`daemon started: ${prepared.length} sources every ${Math.round(intervalMs / 1000)} s`);
  try {
    while (!controller.signal.aborted) {
      try {
        const result = await runCycle(runtime, store, prepared, { signal: controller.signal });
        process.stdout.write(`${new Date().toISOString()}\n${formatCycle(result)}\n\n`);
      } catch (error) {
        if (controller.signal.aborted) break;
        throw error;
      }
      await waitFor(intervalMs, controller.signal);
    }
    return EXIT_OK;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await store.close();
  }
}

function waitFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
