import { addDecimals, type Granularity, toScaledInteger } from '@utt/core';
import { parseTrackedCellReason } from '@utt/postgres';
import { priceUsage } from '@utt/pricing';
import { EXIT_OK } from '../exit-codes';
import { formatTable, formatUsd } from '../output/format-table';
import { workerPriceRegistry } from '../pricing/worker-price-registry';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseTimeFlag, UsageError } from './parse-time-flag';

type StoredRow = {
  id: number;
  source_system: string;
  granularity: Granularity;
  bucket_start: Date;
  provider: string;
  model: string;
  labels: Record<string, string>;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cached_write_tokens: number | null;
  cached_write_1h_tokens: number | null;
  requests: number | null;
  cost_usd: string | null;
  cost_source: string | null;
  price_ref: string | null;
  unpriced_reason: string | null;
};

type Change = {
  readonly row: StoredRow;
  readonly cost: string | null;
  readonly priceRef: string | null;
  readonly unpricedReason: string | null;
};

const LISTED_CHANGES = 30;
const PER_REQUEST = 'per-request:';

/**
 * `utt reprice`: recomputes the cost of stored rows that utt priced (or could
 * not price) with the current registry, shows every change, then writes them
 * in one transaction — or only shows them with --dry-run. Provider-reported
 * and fixed costs are never touched; without this command a stored cost
 * never changes.
 */
export async function repriceCommand(
  runtime: Runtime,
  flags: { since?: string; until?: string; source?: string; model?: string; dryRun?: boolean },
): Promise<number> {
  const since = parseTimeFlag('since', flags.since, undefined, 'reprice');
  if (!since) throw new UsageError('reprice needs --since');
  const until = parseTimeFlag('until', flags.until, undefined, 'reprice');
  const registry = await workerPriceRegistry(runtime);
  const store = await openConfiguredStore(runtime);
  try {
    const table = `"${store.schema}".token_usage`;
    const rows = await store.client.query<StoredRow>(
      `SELECT id, source_system, granularity, bucket_start, provider, model, labels,
              input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, requests,
              cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason
       FROM ${table}
       WHERE bucket_start >= $1
         AND ($2::timestamptz IS NULL OR bucket_start < $2)
         AND ($3::text IS NULL OR source_system = $3 OR source_instance = $3)
         AND ($4::text IS NULL OR model = $4)
         AND (cost_source = 'computed' OR cost_source IS NULL)
       ORDER BY bucket_start, id`,
      [since, until ?? null, flags.source ?? null, flags.model ?? null],
    );

    const changes: Change[] = [];
    let perRequest = 0;
    let usageUnknown = 0;
    for (const row of rows) {
      // A per-request import was priced one request at a time; its sum cannot be re-priced as one.
      if (row.price_ref?.startsWith(PER_REQUEST) || row.unpriced_reason?.startsWith(PER_REQUEST)) {
        perRequest++;
        continue;
      }
      // A tracker hour with calls whose usage never arrived lacks their tokens: priced, its known part would pass for the whole.
      if ((parseTrackedCellReason(row.unpriced_reason)?.usageUnknownCalls ?? 0) > 0) {
        usageUnknown++;
        continue;
      }
      const result = priceUsage(registry, row);
      const next: Change =
        result.status === 'priced'
          ? { row, cost: result.costUsd, priceRef: result.priceRef, unpricedReason: null }
          : { row, cost: null, priceRef: null, unpricedReason: result.unpricedReason };
      if (!sameCost(row.cost_usd, next.cost) || row.price_ref !== next.priceRef || row.unpriced_reason !== next.unpricedReason) changes.push(next);
    }

    process.stdout.write(formatChanges(changes));
    const before = addDecimals(changes.flatMap((change) => (change.row.cost_usd === null ? [] : [change.row.cost_usd])), 24);
    const after = addDecimals(changes.flatMap((change) => (change.cost === null ? [] : [change.cost])), 24);
    const newlyPriced = changes.filter((change) => change.row.cost_usd === null && change.cost !== null).length;
    const nowUnpriced = changes.filter((change) => change.row.cost_usd !== null && change.cost === null).length;
    process.stdout.write(
      `${rows.length} rows examined, ${changes.length} change (${newlyPriced} newly priced, ${nowUnpriced} now unpriced); ` +
        `priced cost of the changed rows ${formatUsd(before)} → ${formatUsd(after)}\n`,
    );
    if (perRequest > 0) process.stdout.write(`${perRequest} rows priced per request by an import were left alone: import their file again with utt import FILE --reprice\n`);
    if (usageUnknown > 0) process.stdout.write(`${usageUnknown} tracker rows with calls whose usage never arrived were left alone: their tokens are incomplete, no price can fill them\n`);
    if (flags.dryRun) {
      process.stdout.write('dry run: nothing written\n');
      return EXIT_OK;
    }
    await store.client.transaction(async (tx) => {
      for (const change of changes) {
        await tx.query(
          `UPDATE ${table}
           SET cost_usd = $2::numeric, cost_source = $3, price_ref = $4, unpriced_reason = $5, updated_at = now()
           WHERE id = $1`,
          [change.row.id, change.cost, change.cost === null ? null : 'computed', change.priceRef, change.unpricedReason],
        );
      }
    });
    process.stdout.write(`re-priced ${changes.length} rows\n`);
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

function sameCost(stored: string | null, next: string | null): boolean {
  if (stored === null || next === null) return stored === next;
  return toScaledInteger(stored, 24) === toScaledInteger(next, 24);
}

function formatChanges(changes: readonly Change[]): string {
  if (changes.length === 0) return 'no stored cost changes with the current prices\n';
  const shown = changes.slice(0, LISTED_CHANGES).map((change) => [
    change.row.bucket_start.toISOString().slice(0, 16).replace('T', ' '),
    change.row.source_system,
    `${change.row.provider}/${change.row.model}`,
    change.row.cost_usd === null ? `unpriced (${change.row.unpriced_reason ?? 'no reason'})` : formatUsd(change.row.cost_usd),
    change.cost === null ? `unpriced (${change.unpricedReason})` : formatUsd(change.cost),
    change.priceRef ?? '',
  ]);
  const more = changes.length > LISTED_CHANGES ? `\n… and ${changes.length - LISTED_CHANGES} more\n` : '\n';
  return `${formatTable(['bucket', 'source', 'model', 'stored cost', 'new cost', 'new price'], shown, new Set([3, 4]))}${more}`;
}
