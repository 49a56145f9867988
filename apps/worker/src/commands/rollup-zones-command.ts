import { openConfiguredStore, type Runtime } from '../runtime';
import { EXIT_OK } from '../exit-codes';
import { UsageError } from './parse-time-flag';

/**
 * `utt rollup-zones`: the time zones whose local days the dashboard roll-up
 * keeps (`utt serve` adds the reporting zone), and `--drop ZONE` to stop
 * keeping one no dashboard serves any more: every write pays for each kept zone.
 */
export async function rollupZonesCommand(runtime: Runtime, flags: { drop?: string; json?: boolean }): Promise<number> {
  const reportingTimeZone = runtime.loaded.config.reportingTimeZone;
  const store = await openConfiguredStore(runtime);
  try {
    if (flags.drop !== undefined) {
      if (flags.drop === 'UTC') throw new UsageError('rollup-zones: UTC is always kept (the daily roll-up and every UTC page read it)', 'rollup-zones');
      const { dropped } = await store.dropRollupTimeZone(flags.drop);
      if (!dropped) {
        const kept = await store.listRollupTimeZones();
        throw new UsageError(`rollup-zones: ${flags.drop} is not kept (kept: ${kept.join(', ')})`, 'rollup-zones');
      }
    }
    const zones = await store.listRollupTimeZones();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ reportingTimeZone, zones, ...(flags.drop === undefined ? {} : { dropped: flags.drop }) }, null, 2)}\n`);
      return EXIT_OK;
    }
    if (flags.drop !== undefined) process.stdout.write(`dropped ${flags.drop}: writes no longer keep its local days\n`);
    for (const zone of zones) {
      const notes = [zone === 'UTC' ? 'always kept' : '', zone === reportingTimeZone ? 'the configured reportingTimeZone' : ''].filter(Boolean);
      process.stdout.write(`${zone}${notes.length > 0 ? `  (${notes.join('; ')})` : ''}\n`);
    }
    const unused = zones.filter((zone) => zone !== 'UTC' && zone !== reportingTimeZone);
    if (unused.length > 0) {
      process.stdout.write(`not the configured reportingTimeZone: ${unused.join(', ')}. If no dashboard serves it, \`utt rollup-zones --drop ZONE\` stops every write paying for it.\n`);
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
