import { EXIT_OK } from '../exit-codes';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseDurationFlag, UsageError } from './parse-time-flag';

const HOUR_MS = 3_600_000;

/**
 * `utt prune-calls --older-than 90d`: retention for @utt/tracker's per-call
 * ledger. Deletes tracked_call rows of whole UTC hours older than the given
 * age, in batches of short transactions; the hourly token_usage cells (and
 * every budget and report that reads them) keep their totals, and later
 * writes refuse calls of the pruned hours so a retried batch cannot count
 * twice. Meant for cron, like the seed's `llm_cost_tracker:prune` task.
 */
export async function pruneCallsCommand(
  runtime: Runtime,
  flags: { olderThan?: string; application?: string; batchSize?: string; json?: boolean; now?: Date },
): Promise<number> {
  const age = parseDurationFlag('older-than', flags.olderThan, 'prune-calls');
  if (age === undefined) throw new UsageError('prune-calls: --older-than is required (e.g. --older-than 90d)', 'prune-calls');
  if (age < HOUR_MS) throw new UsageError('prune-calls: --older-than must be at least 1h (calls are pruned by whole hours)', 'prune-calls');
  let batchSize: number | undefined;
  if (flags.batchSize !== undefined) {
    batchSize = Number(flags.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`prune-calls: --batch-size must be a positive whole number, not "${flags.batchSize}"`, 'prune-calls');
  }
  const now = flags.now ?? new Date();
  // Whole hours: a cell is pruned entirely or not at all, and the horizon is an hour boundary.
  const before = new Date(Math.floor((now.getTime() - age) / HOUR_MS) * HOUR_MS);
  const store = await openConfiguredStore(runtime);
  try {
    const started = Date.now();
    const { deleted, batches } = await store.pruneTrackedCalls({ before, sourceSystem: flags.application, batchSize });
    const result = { before: before.toISOString(), application: flags.application ?? null, deleted, batches, ms: Date.now() - started };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT_OK;
    }
    const whose = flags.application ? `${flags.application}'s` : 'tracked';
    process.stdout.write(
      `pruned ${deleted} ${whose} call${deleted === 1 ? '' : 's'} of hours before ${result.before} in ${batches} batch${batches === 1 ? '' : 'es'}; ` +
        'their hourly cells keep their totals, and calls of those hours arriving later are refused (counted as dropped by the tracker)\n',
    );
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
