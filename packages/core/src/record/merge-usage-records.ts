import { TOKEN_COLUMNS, type UsageRecordInput } from './usage-record';

/**
 * Adds up records that share a conflict key (bucket and every dimension), so
 * a provider answering twice for one key (a null and an empty project id)
 * gives one row with both counted instead of a write that refuses the
 * duplicate. A counter stays NULL only when it is NULL in every record merged:
 * unknown plus known is the known part. Costs are summed by the worker's
 * pricing after the merge, so records that carry a cost are not merged here.
 */
export function mergeUsageRecords(records: readonly UsageRecordInput[]): UsageRecordInput[] {
  const byKey = new Map<string, UsageRecordInput>();
  for (const record of records) {
    if (record.cost_usd !== undefined && record.cost_usd !== null) {
      throw new TypeError('mergeUsageRecords sums counters only; merge records that carry a cost_usd yourself');
    }
    const key = JSON.stringify([
      record.source_instance ?? '',
      record.granularity,
      new Date(record.bucket_start).getTime(),
      record.provider,
      record.model,
      record.account ?? '',
      record.api_key ?? '',
      record.user_id ?? '',
      Object.entries(record.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ]);
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { ...record });
      continue;
    }
    for (const column of TOKEN_COLUMNS) {
      const a = existing[column] ?? null;
      const b = record[column] ?? null;
      existing[column] = a === null && b === null ? null : (a ?? 0) + (b ?? 0);
    }
  }
  return [...byKey.values()];
}
