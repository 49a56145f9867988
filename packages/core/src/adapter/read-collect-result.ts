import type { UsageRecordInput } from '../record/usage-record';
import type { UsageAdapterV1CollectResult } from './v1/usage-adapter-v1-collect-result';

/** All records of a collect() result, whether it returned an array or an async iterable of batches. */
export async function readCollectResult(result: UsageAdapterV1CollectResult): Promise<UsageRecordInput[]> {
  if (Symbol.asyncIterator in Object(result)) {
    const records: UsageRecordInput[] = [];
    // One push per record: `push(...batch)` passes every record as an argument and
    // overflows the call stack above ~120,000 of them.
    for await (const batch of result as AsyncIterable<readonly UsageRecordInput[]>) for (const record of batch) records.push(record);
    return records;
  }
  return [...(await (result as Promise<readonly UsageRecordInput[]>))];
}
