import type { UsageAdapterV1, UsageAdapterV1Context, UsageAdapterV1Window, UsageRecordInput } from '@utt/core';

/**
 * Calls `adapter.collect` and drains the result, whether it is an array (or a
 * promise of one) or an async iterable of batches. Records come back raw, as
 * the adapter returned them; validate them with core's `parseUsageRecord`.
 */
export async function collectAll<TConfig>(
  adapter: UsageAdapterV1<TConfig>,
  window: UsageAdapterV1Window,
  context: UsageAdapterV1Context<TConfig>,
): Promise<UsageRecordInput[]> {
  const result: unknown = adapter.collect(window, context);
  if (isAsyncIterable(result)) {
    const records: UsageRecordInput[] = [];
    for await (const batch of result) for (const record of batch as readonly UsageRecordInput[]) records.push(record);
    return records;
  }
  const awaited = await result;
  if (!Array.isArray(awaited)) {
    throw new TypeError(`collect() must return an array of records or an async iterable of batches, got ${describeType(awaited)}`);
  }
  return [...(awaited as readonly UsageRecordInput[])];
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
