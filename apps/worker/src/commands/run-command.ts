import { EmbeddedDatabaseBusyError, StoreConnectionError, type UsageStore } from '@utt/postgres';
import { type PreparedSource, prepareSources } from '../cycle/prepare-sources';
import { cycleExitCode, runCycle } from '../cycle/run-cycle';
import { EXIT_OK } from '../exit-codes';
import { formatCycle } from '../output/format-cycle';
import { withPrefix } from '../output/console-logger';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseDurationFlag, parseTimeFlag, UsageError } from './parse-time-flag';
import { printReport } from './report-command';

/** `utt run`: one cycle over every enabled source (or `--source NAME`). */
export async function runCommand(runtime: Runtime, flags: { source?: string; report?: boolean; now?: Date }): Promise<number> {
  const { prepared, store } = await prepareAndOpen(runtime, flags.source);
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
    await closeBeforeExit(store);
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
  const { prepared, store } = await prepareAndOpen(runtime, flags.source);
  try {
    // Such a source (a coding agent's transcripts, an import, a quota reading)
    // reads what it reads every cycle: say so, rather than let the range look honoured.
    for (const { source, adapter } of prepared) {
      if (!adapter.capabilities.windowed) {
        withPrefix(runtime.logger, source.name).warn(
          `the ${adapter.id} adapter collects no time window, so --since/--until are ignored: this is an ordinary cycle (a coding-agent source reads every transcript, only what is new since its last cycle, and writes every hour it finds)`,
        );
      }
    }
    const result = await runCycle(runtime, store, prepared, { signal: new AbortController().signal, now: flags.now, range: { since, until } });
    process.stdout.write(`${formatCycle(result)}\n`);
    return cycleExitCode(result);
  } finally {
    await closeBeforeExit(store);
  }
}

/**
 * A one-shot command's store, closed as the process is about to exit: every
 * write has committed by now, so the server is told to end the session but
 * its goodbye (the backend exiting, 4–5 ms) is not waited for.
 */
function closeBeforeExit(store: UsageStore): Promise<void> {
  return store.close({ waitForServer: false });
}

/**
 * The sources prepared (adapters loaded, their config blocks validated) and
 * the store opened. Against a PostgreSQL server the connection is made while
 * the adapters load, so that its round trips (connecting, and the read of
 * which migrations the schema has) overlap their loading (a one-shot
 * `utt run` pays for both); the schema is brought up to date only
 * once the config has proved good, so a config that fails changes nothing in
 * the database, and its error is the one reported. The embedded database is
 * opened after: it starts a WebAssembly PostgreSQL and locks its folder.
 */
async function prepareAndOpen(runtime: Runtime, only: string | undefined): Promise<{ prepared: PreparedSource[]; store: UsageStore }> {
  if (!runtime.loaded.config.database.url) {
    const prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd, only });
    return { prepared, store: await openConfiguredStore(runtime) };
  }
  let connecting = () => {};
  const started = new Promise<void>((resolve) => {
    connecting = resolve;
  });
  // Whether the schema needs migrating is read while the adapters load too (a read, no DDL).
  const opening = openConfiguredStore(runtime, { migrate: false, onConnecting: () => connecting() }).then(async (store) => {
    try {
      return { store, pending: await store.migrationsPending() };
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  });
  // Awaited below; a failure to connect while the adapters load is not left unhandled meanwhile.
  opening.catch(() => {});
  // The adapters are loaded once the socket is opening, and after the event
  // loop's next poll for I/O (two setImmediate turns: the first ends this
  // loop iteration): a server on this machine has accepted by then, and pg
  // sends the login. Loading modules holds the thread for turns at a time, so
  // otherwise the login waited for the adapters, and the server's fork, login
  // and migration check for it, one after the other.
  const settled = opening.then(
    () => {},
    () => {},
  );
  await Promise.race([started, settled]);
  for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  let prepared: PreparedSource[];
  try {
    prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd, only });
  } catch (error) {
    void opening.then(
      ({ store }) => store.close().catch(() => {}),
      () => {},
    );
    throw error;
  }
  const { store, pending } = await opening;
  if (pending) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }
  return { prepared, store };
}

/**
 * `utt daemon`: a cycle every interval until SIGTERM or SIGINT. On a signal,
 * a source whose write has begun completes it (rows, watermark and status
 * commit together), a source still collecting is abandoned and writes
 * nothing, no further source starts, and the process exits 0. A database that is down or
 * stops answering does not end it: the daemon says so on stderr and tries
 * again with backoff, then carries on (and writes statuses) once it is back.
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
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    runtime.logger.info(`received ${signal}, stopping`);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const backoff = databaseBackoff(intervalMs);
  let store: UsageStore | undefined;
  try {
    while (!controller.signal.aborted) {
      try {
        store ??= await openConfiguredStore(runtime);
        if (backoff.failures > 0) runtime.logger.warn('the database is reachable again; resuming cycles');
        else if (!backoff.started) runtime.logger.info(`daemon started: ${prepared.length} sources every ${Math.round(intervalMs / 1000)} s`);
        backoff.started = true;
        const result = await runCycle(runtime, store, prepared, { signal: controller.signal });
        backoff.failures = 0;
        process.stdout.write(`${new Date().toISOString()}\n${formatCycle(result)}\n\n`);
        if (store.client.kind === 'pglite') {
          // PGlite is one process per folder: between cycles the folder is left
          // free, so a cron `utt watchdog` or `utt report` waits at most one cycle.
          await store.close();
          store = undefined;
        }
      } catch (error) {
        if (controller.signal.aborted) break;
        if (!isDatabaseUnavailable(error)) throw error;
        const delayMs = backoff.next();
        runtime.logger.warn(`${(error as Error).message}; the daemon keeps running and tries again in ${Math.round(delayMs / 100) / 10} s`);
        await waitFor(delayMs, controller.signal);
        continue;
      }
      await waitFor(intervalMs, controller.signal);
    }
    return EXIT_OK;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await store?.close().catch(() => {});
  }
}

/** Retry delays after a database outage: 1 s doubling, capped at the interval and at 5 minutes. */
function databaseBackoff(intervalMs: number) {
  const cap = Math.max(1_000, Math.min(intervalMs, 300_000));
  return {
    started: false,
    failures: 0,
    next(): number {
      this.failures += 1;
      return Math.min(cap, 1_000 * 2 ** Math.min(this.failures - 1, 16));
    },
  };
}

/**
 * The database is down, unreachable or frozen: worth waiting for. A refused
 * login or a missing database is a configuration problem and stays fatal.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  if (EmbeddedDatabaseBusyError.isInstance(error)) return true;
  if (!StoreConnectionError.isInstance(error)) return false;
  return error.code === undefined || !/^(28|3D)/.test(error.code);
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
