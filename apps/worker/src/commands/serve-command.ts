import { createDashboardHandler, type DashboardSource, serveDashboard } from '@utt/dashboard';
import { explainPrice } from '@utt/pricing';
import { loadAdapter } from '../config/load-adapter';
import { EXIT_OK } from '../exit-codes';
import { workerPriceRegistry } from '../pricing/worker-price-registry';
import { openConfiguredStore, type Runtime } from '../runtime';
import { UsageError } from './parse-time-flag';
import { formatExplanation } from './prices-command';

/** The environment variable `utt serve` reads its token from; never a flag, so it stays out of `ps` and shell history. */
export const SERVE_TOKEN_VARIABLE = 'UTT_SERVE_TOKEN';

/**
 * `utt serve`: the dashboard on node:http until SIGINT or SIGTERM. Sources
 * are described from the config (adapters are loaded for their source system
 * and cache capability, never called), so the pages judge freshness and the
 * cache checks as `utt watchdog` and `utt verify` do.
 */
export async function serveCommand(
  runtime: Runtime,
  flags: { host?: string; port?: string; allowHost?: string },
  signal?: AbortSignal,
): Promise<number> {
  const { dashboard, sources, worker } = runtime.loaded.config;
  const host = flags.host ?? dashboard.host;
  const port = flags.port === undefined ? dashboard.port : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be a whole number from 0 to 65535');
  const token = runtime.env[SERVE_TOKEN_VARIABLE] || undefined;
  const described: DashboardSource[] = [];
  for (const source of sources) {
    const adapter = await loadAdapter(source.adapter, { directory: runtime.loaded.directory, cwd: runtime.cwd });
    described.push({
      name: source.name,
      sourceSystem: adapter.sourceSystem,
      enabled: source.enabled,
      paused: source.paused,
      staleAfterMs: source.staleAfter ?? worker.staleAfter,
      cacheTokens: adapter.capabilities.cacheTokens,
    });
  }
  const registry = workerPriceRegistry(runtime);
  const store = await openConfiguredStore(runtime);
  try {
    const timeZone = runtime.loaded.config.reportingTimeZone;
    if (timeZone !== 'UTC') {
      // Per-day pages in the reporting zone read the roll-up only once it keeps that zone's local days.
      const began = Date.now();
      const { added } = await store.addRollupTimeZone(timeZone);
      if (added) process.stdout.write(`utt dashboard: the daily roll-up now keeps ${timeZone} days too (backfilled in ${Date.now() - began} ms)\n`);
    }
    const options = {
      store,
      host,
      port,
      token,
      timeZone: runtime.loaded.config.reportingTimeZone,
      allowedHosts: [...dashboard.allowedHosts, ...(flags.allowHost?.split(',').map((name) => name.trim()).filter(Boolean) ?? [])],
      staleAfterMs: worker.staleAfter,
      sources: described,
      budgets: runtime.loaded.config.budgets,
      quota: { thresholds: runtime.loaded.config.quota.thresholds, staleAfterMs: runtime.loaded.config.quota.staleAfter },
      explainPrice: async (provider: string, model: string) =>
        formatExplanation(explainPrice(await registry, provider, model, new Date()))
          .trim()
          .split('\n')
          .map((line) => line.trim())
          .join('; '),
    };
    // Checked before binding, so a bad option fails like any other config error.
    createDashboardHandler(options);
    const running = await serveDashboard(options);
    process.stdout.write(
      `utt dashboard: ${running.url} (time zone ${runtime.loaded.config.reportingTimeZone}${token ? `; open it once with ?token=… from ${SERVE_TOKEN_VARIABLE}` : ''})\nread-only; Ctrl-C stops it\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      signal?.addEventListener('abort', stop, { once: true });
    });
    await running.close();
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
