import { addDecimals, type Granularity, toScaledInteger } from '@utt/core';
import type { TrackedCallCost, UsageStore } from '@utt/postgres';
import { type PriceRegistry, priceUsage, UNPRICED_REASONS } from '@utt/pricing';
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
    const sameCell = (other: string) =>
      `${other}.source_system = u.source_system AND ${other}.source_instance = u.source_instance AND ${other}.bucket_start = u.bucket_start
       AND ${other}.provider = u.provider AND ${other}.model = u.model AND ${other}.labels = u.labels`;
    const rows = await store.client.query<StoredRow & { tracker_cell: 'calls' | 'carry' | null }>(
      `SELECT id, source_system, granularity, bucket_start, provider, model, labels,
              input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, requests,
              cost_usd::text AS cost_usd, cost_source, price_ref, unpriced_reason,
              CASE WHEN granularity <> 'hour' THEN NULL
                   WHEN EXISTS (SELECT 1 FROM "${store.schema}".tracked_call c WHERE ${sameCell('c')}) THEN 'calls'
                   WHEN EXISTS (SELECT 1 FROM "${store.schema}".tracked_cell_carry k WHERE ${sameCell('k')}) THEN 'carry' END AS tracker_cell
       FROM ${table} u
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
    let prunedCells = 0;
    let examined = 0;
    for (const row of rows) {
      // A tracker cell is the sum of its calls: its calls are re-priced below and the cell recomputed from them.
      // Priced here, it would no longer equal them, and the next call of its hour would set it back.
      if (row.tracker_cell === 'calls') continue;
      // Every call of it pruned: no call is left to price, and the sum of several is not priced as one.
      if (row.tracker_cell === 'carry') {
        if (row.cost_usd === null) prunedCells++;
        continue;
      }
      examined++;
      // A per-request import was priced one request at a time; its sum cannot be re-priced as one.
      if (row.price_ref?.startsWith(PER_REQUEST) || row.unpriced_reason?.startsWith(PER_REQUEST)) {
        perRequest++;
        continue;
      }
      const result = priceUsage(registry, row);
      const next: Change =
        result.status === 'priced'
          ? { row, cost: result.costUsd, priceRef: result.priceRef, unpricedReason: null }
          : { row, cost: null, priceRef: null, unpricedReason: result.unpricedReason };
      if (!sameCost(row.cost_usd, next.cost) || row.price_ref !== next.priceRef || row.unpriced_reason !== next.unpricedReason) changes.push(next);
    }

    const calls = await repriceTrackedCalls(store, registry, { since, until, source: flags.source, model: flags.model });

    process.stdout.write(formatChanges(changes));
    const before = addDecimals(changes.flatMap((change) => (change.row.cost_usd === null ? [] : [change.row.cost_usd])), 24);
    const after = addDecimals(changes.flatMap((change) => (change.cost === null ? [] : [change.cost])), 24);
    const newlyPriced = changes.filter((change) => change.row.cost_usd === null && change.cost !== null).length;
    const nowUnpriced = changes.filter((change) => change.row.cost_usd !== null && change.cost === null).length;
    process.stdout.write(
      `${examined} rows examined, ${changes.length} change (${newlyPriced} newly priced, ${nowUnpriced} now unpriced); ` +
        `priced cost of the changed rows ${formatUsd(before)} → ${formatUsd(after)}\n`,
    );
    if (calls.examined > 0) {
      process.stdout.write(
        `${calls.examined} tracked calls examined, ${calls.changes.length} change (${calls.newlyPriced} newly priced, ${calls.nowUnpriced} now unpriced); ` +
          `priced cost of the changed calls ${formatUsd(calls.before)} → ${formatUsd(calls.after)}; their hourly cells are recomputed from them\n`,
      );
    }
    if (perRequest > 0) process.stdout.write(`${perRequest} rows priced per request by an import were left alone: import their file again with utt import FILE --reprice\n`);
    if (calls.usageUnknown > 0) process.stdout.write(`${calls.usageUnknown} tracked calls whose usage never arrived were left alone: their tokens are incomplete, no price can fill them\n`);
    if (calls.unpricedForUsage.size > 0) {
      const reasons = [...calls.unpricedForUsage].map(([reason, count]) => `${reason}${count > 1 ? ` ×${count}` : ''}`).join(', ');
      const count = [...calls.unpricedForUsage.values()].reduce((sum, value) => sum + value, 0);
      process.stdout.write(`${count} tracked calls the tracker left unpriced for their usage (${reasons}) were left alone: no price can fill them\n`);
    }
    if (prunedCells > 0) process.stdout.write(`${prunedCells} unpriced tracker rows whose calls were all pruned were left alone: no call is left to price\n`);
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
    const callsUpdated = calls.changes.length > 0 ? await store.setTrackedCallCosts(calls.changes) : 0;
    process.stdout.write(`re-priced ${changes.length} rows${callsUpdated > 0 ? ` and ${callsUpdated} tracked calls` : ''}\n`);
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

type StoredCall = {
  event_id: string;
  bucket_start: Date;
  occurred_at: Date;
  provider: string;
  model: string;
  service_tier: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cached_write_tokens: number | null;
  cached_write_1h_tokens: number | null;
  web_searches: number | null;
  usage_origin: string;
  cost_usd: string | null;
  price_ref: string | null;
  unpriced_reason: string | null;
};

const CALL_PAGE = 10_000;

const PRICING_REASONS: ReadonlySet<string> = new Set(UNPRICED_REASONS);

/**
 * Tracked calls of the window priced again, each as @utt/tracker prices it
 * (at its own time and service tier, its web searches included), read a page
 * at a time; only the changes are kept. Calls whose usage never arrived stay
 * unpriced: what they cost is not known.
 */
async function repriceTrackedCalls(
  store: UsageStore,
  registry: PriceRegistry,
  window: { since: Date; until: Date | undefined; source: string | undefined; model: string | undefined },
): Promise<{ examined: number; usageUnknown: number; unpricedForUsage: Map<string, number>; changes: TrackedCallCost[]; newlyPriced: number; nowUnpriced: number; before: string; after: string }> {
  const changes: TrackedCallCost[] = [];
  const beforeCosts: string[] = [];
  const afterCosts: string[] = [];
  let examined = 0;
  let usageUnknown = 0;
  const unpricedForUsage = new Map<string, number>();
  let newlyPriced = 0;
  let nowUnpriced = 0;
  let cursor: { bucketStart: Date; eventId: string } | null = null;
  for (;;) {
    const page: StoredCall[] = await store.client.query<StoredCall>(
      `SELECT event_id, bucket_start, occurred_at, provider, model, service_tier, input_tokens, output_tokens, cached_read_tokens,
              cached_write_tokens, cached_write_1h_tokens, web_searches, usage_origin, cost_usd::text AS cost_usd, price_ref, unpriced_reason
       FROM "${store.schema}".tracked_call
       WHERE bucket_start >= $1
         AND ($2::timestamptz IS NULL OR bucket_start < $2)
         AND ($3::text IS NULL OR source_system = $3 OR source_instance = $3)
         AND ($4::text IS NULL OR model = $4)
         AND ($5::timestamptz IS NULL OR (bucket_start, event_id) > ($5::timestamptz, $6::uuid))
       ORDER BY bucket_start, event_id
       LIMIT ${CALL_PAGE}`,
      [window.since, window.until ?? null, window.source ?? null, window.model ?? null, cursor?.bucketStart ?? null, cursor?.eventId ?? null],
    );
    for (const call of page) {
      examined++;
      if (call.usage_origin === 'unknown' && call.output_tokens === null) {
        usageUnknown++;
        continue;
      }
      // Left unpriced by the tracker for its usage (buckets it could not tell apart, a reason given to record()), not
      // for want of a price: priced now, the buckets it has would pass for the whole call.
      if (call.unpriced_reason !== null && !PRICING_REASONS.has(call.unpriced_reason.split(':', 1)[0] as string)) {
        unpricedForUsage.set(call.unpriced_reason, (unpricedForUsage.get(call.unpriced_reason) ?? 0) + 1);
        continue;
      }
      const result = priceUsage(registry, {
        provider: call.provider,
        model: call.model,
        bucket_start: new Date(call.occurred_at),
        labels: call.service_tier === '' ? {} : { service_tier: call.service_tier },
        input_tokens: call.input_tokens === null ? null : Number(call.input_tokens),
        output_tokens: call.output_tokens === null ? null : Number(call.output_tokens),
        cached_read_tokens: call.cached_read_tokens === null ? null : Number(call.cached_read_tokens),
        cached_write_tokens: call.cached_write_tokens === null ? null : Number(call.cached_write_tokens),
        cached_write_1h_tokens: call.cached_write_1h_tokens === null ? null : Number(call.cached_write_1h_tokens),
        requests: 1,
        web_searches: call.web_searches === null ? null : Number(call.web_searches),
      });
      const next =
        result.status === 'priced'
          ? { costUsd: result.costUsd, priceRef: result.priceRef, unpricedReason: null }
          : { costUsd: null, priceRef: null, unpricedReason: result.unpricedReason };
      if (sameCost(call.cost_usd, next.costUsd) && call.price_ref === next.priceRef && call.unpriced_reason === next.unpricedReason) continue;
      changes.push({ eventId: call.event_id, ...next });
      if (call.cost_usd !== null) beforeCosts.push(call.cost_usd);
      if (next.costUsd !== null) afterCosts.push(next.costUsd);
      if (call.cost_usd === null && next.costUsd !== null) newlyPriced++;
      if (call.cost_usd !== null && next.costUsd === null) nowUnpriced++;
    }
    const last = page.at(-1);
    if (page.length < CALL_PAGE || last === undefined) break;
    cursor = { bucketStart: new Date(last.bucket_start), eventId: last.event_id };
  }
  return { examined, usageUnknown, unpricedForUsage, changes, newlyPriced, nowUnpriced, before: addDecimals(beforeCosts, 24), after: addDecimals(afterCosts, 24) };
}
