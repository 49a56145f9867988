import { runAlerts } from '../alerts/run-alerts';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { formatTable } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';

/** `utt alerts`: evaluate the configured rules now; notify on changes only. */
export async function alertsCommand(runtime: Runtime, flags: { dryRun?: boolean; json?: boolean; now?: Date }): Promise<number> {
  const config = runtime.loaded.config;
  if (config.alerts.rules.length === 0) {
    process.stderr.write('utt: no alert rules configured (alerts.rules)\n');
    return EXIT_OK;
  }
  const store = await openConfiguredStore(runtime);
  try {
    const entries = await runAlerts({
      store,
      config,
      now: flags.now ?? new Date(),
      fetch: globalThis.fetch,
      // Stdout channel lines go to stdout; the summary table follows unless --json.
      write: (text) => process.stdout.write(text),
      secrets: runtime.loaded.secrets,
      dryRun: flags.dryRun,
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else {
      const rows = entries.map((entry) => [
        entry.rule,
        entry.subject,
        entry.previousLevel === null || entry.previousLevel === entry.level ? entry.level : `${entry.previousLevel} → ${entry.level}`,
        entry.error ? `FAILED: ${entry.error}` : entry.notified ? 'notified' : flags.dryRun ? 'dry run' : '',
      ]);
      process.stdout.write(rows.length === 0 ? 'no subjects to judge yet\n' : `${formatTable(['rule', 'subject', 'level', 'notification'], rows)}\n`);
    }
    return entries.some((entry) => entry.error) ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    await store.close();
  }
}
