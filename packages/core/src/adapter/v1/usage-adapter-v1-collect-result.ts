import type { UsageRecordInput } from '../../record/usage-record';

/**
 * Records for a window, all at once or as batches (an async iterable lets a
 * large source stream without holding everything in memory).
 */
export type UsageAdapterV1CollectResult =
  | Promise<readonly UsageRecordInput[]>
  | AsyncIterable<readonly UsageRecordInput[]>;
