import type { Logger, UsageAdapterV1State, UsageRecordInput } from '@utt/core';

const KEY_PREFIX = 'activity-labels:';
/** Longer than the report history GitHub keeps (about a year), so a backfill still sees what was written. */
const KEEP_DAYS = 400;
const DAY_MS = 86_400_000;

/**
 * Labels are part of token_usage's conflict key, and the activity row keeps
 * its figures there. GitHub publishes a day's report once the day is
 * processed, so the figures should never change; if a re-issued report did
 * change one, writing it would add a second activity row for that day instead
 * of replacing the first. With durable state, the first figures written for a
 * day are kept (and a warning says the provider revised them), so each day
 * keeps exactly one activity row. Without state the records pass unchanged.
 */
export function stabilizeActivityLabels(
  records: UsageRecordInput[],
  state: UsageAdapterV1State | undefined,
  logger: Logger,
  now: Date,
): UsageRecordInput[] {
  if (!state) return records;
  const result = records.map((record) => {
    if (record.labels?.metric_set !== 'activity') return record;
    const start = record.bucket_start;
    const day = (start instanceof Date ? start.toISOString() : String(start)).slice(0, 10);
    const key = `${KEY_PREFIX}${record.account ?? ''}:${day}`;
    const stored = state.get(key);
    if (isStringRecord(stored)) {
      if (!sameLabels(stored, record.labels)) {
        logger.warn('GitHub revised the Copilot activity figures of a day already written; the first figures are kept so the day keeps one activity row', {
          day,
          account: record.account ?? '',
        });
      }
      return { ...record, labels: stored };
    }
    state.set(key, record.labels);
    return record;
  });
  const oldest = new Date(now.getTime() - KEEP_DAYS * DAY_MS).toISOString().slice(0, 10);
  for (const key of state.keys(KEY_PREFIX)) {
    const day = key.slice(key.lastIndexOf(':') + 1);
    if (day < oldest) state.delete(key);
  }
  return result;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string');
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
