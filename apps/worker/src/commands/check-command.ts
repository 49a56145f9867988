import { createHttpClient, redactSecrets, UttError } from '@utt/core';
import { prepareSources } from '../cycle/prepare-sources';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { withPrefix } from '../output/console-logger';
import type { Runtime } from '../runtime';

/** `utt check`: each enabled source's credentials check (one cheap call each); writes nothing. */
export async function checkCommand(runtime: Runtime, flags: { source?: string }): Promise<number> {
  const prepared = await prepareSources(runtime.loaded, { cwd: runtime.cwd, only: flags.source });
  const { worker } = runtime.loaded.config;
  let failed = 0;
  for (const { source, adapter, adapterConfig } of prepared) {
    if (!adapter.check) {
      // A source given a key whose adapter cannot test it must not read as "nothing to check".
      const hasKey = [...runtime.loaded.secrets].some((secret) => JSON.stringify(source.config).includes(JSON.stringify(secret).slice(1, -1)));
      process.stdout.write(
        hasKey
          ? `${source.name}: ${adapter.id} has no check() to test its credentials; the first \`utt run\` will\n`
          : `${source.name}: no credentials to check (${adapter.id})\n`,
      );
      continue;
    }
    const signal = new AbortController().signal;
    const logger = withPrefix(runtime.logger, source.name);
    try {
      const result = await adapter.check({
        config: adapterConfig,
        http: createHttpClient({ deadlineMs: worker.httpDeadline, retryBudgetMs: worker.httpRetryBudget, signal, logger }),
        fetch: globalThis.fetch,
        env: runtime.env,
        logger,
        signal,
        now: () => new Date(),
        sourceName: source.name,
        configDirectory: runtime.loaded.directory,
      });
      if (!result.ok) failed++;
      process.stdout.write(`${source.name}: ${result.ok ? `ok${result.detail ? ` (${result.detail})` : ''}` : `FAILED: ${redactSecrets(result.reason, runtime.loaded.secrets)}`}\n`);
    } catch (error) {
      failed++;
      const message = UttError.isInstance(error) || error instanceof Error ? error.message : String(error);
      process.stdout.write(`${source.name}: FAILED: ${redactSecrets(message, runtime.loaded.secrets)}\n`);
    }
  }
  return failed > 0 ? EXIT_PARTIAL : EXIT_OK;
}
