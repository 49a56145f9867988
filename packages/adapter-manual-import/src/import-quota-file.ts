import { readFile } from 'node:fs/promises';
import type { QuotaReadingV1, QuotaStatusV1 } from '@utt/core';
import { ImportFileError } from './import-file-error';

const STATUSES: Record<string, QuotaStatusV1> = {
  allowed: 'allowed',
  ok: 'allowed',
  allowed_warning: 'warning',
  warning: 'warning',
  rejected: 'rejected',
  maxed: 'rejected',
  auth_required: 'auth_required',
  invalid_key: 'invalid_key',
  unknown: 'unknown',
};

/**
 * Quota readings from a JSON Lines file, one reading a line, in either shape:
 * utt's own (`provider`, `account`, `window`, `usedRatio`, `resetsAt`,
 * `status`, `observedAt`, …: what `utt quota --json` and a proxy's piggyback
 * log write) or token-monitor's log line (`ts`, `provider` = the account name,
 * `status`, `utilization_5h`, `utilization_7d` as fractions, optional
 * `reset_5h`/`reset_7d` in Unix seconds). A bad line is an error naming the
 * file and line, or skipped and reported with `skipInvalid`.
 */
export async function importQuotaFile(
  file: string,
  options: { skipInvalid: boolean; onSkipped?: (line: number, reason: string) => void },
): Promise<QuotaReadingV1[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ImportFileError({ file, reason: (error as { code?: string }).code === 'ENOENT' ? 'file not found' : 'cannot be read' });
  }
  const readings: QuotaReadingV1[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = (lines[index] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      for (const reading of toReadings(parsed)) readings.push(reading);
    } catch (error) {
      const reason = error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message;
      if (!options.skipInvalid) throw new ImportFileError({ file, line: index + 1, reason });
      options.onSkipped?.(index + 1, reason);
    }
  }
  return readings;
}

function toReadings(line: Record<string, unknown>): QuotaReadingV1[] {
  if ('utilization_5h' in line || 'utilization_7d' in line) return tokenMonitorReadings(line);
  const required = (field: string) => {
    const value = line[field];
    if (typeof value !== 'string' || value === '') throw new Error(`${field}: required`);
    return value;
  };
  const status = STATUSES[required('status')];
  if (!status) throw new Error(`status: "${String(line.status)}" is not one of ${Object.keys(STATUSES).join(', ')}`);
  const via = line.obtainedVia ?? 'log';
  if (via !== 'endpoint' && via !== 'probe' && via !== 'log' && via !== 'piggyback') throw new Error('obtainedVia: must be endpoint, probe, log or piggyback');
  return [
    {
      provider: required('provider'),
      account: required('account'),
      window: required('window'),
      windowSeconds: numberOrNull(line.windowSeconds, 'windowSeconds'),
      usedRatio: numberOrNull(line.usedRatio, 'usedRatio'),
      rawValue: numberOrNull(line.rawValue, 'rawValue'),
      rawUnit: typeof line.rawUnit === 'string' ? line.rawUnit : null,
      limit: numberOrNull(line.limit, 'limit'),
      remaining: numberOrNull(line.remaining, 'remaining'),
      resetsAt: typeof line.resetsAt === 'string' ? line.resetsAt : null,
      status,
      obtainedVia: via,
      observedAt: required('observedAt'),
      detail: typeof line.detail === 'string' ? line.detail : null,
    },
  ];
}

function tokenMonitorReadings(line: Record<string, unknown>): QuotaReadingV1[] {
  const observedAt = typeof line.ts === 'string' ? line.ts : null;
  if (!observedAt) throw new Error('ts: required');
  const account = typeof line.provider === 'string' && line.provider !== '' ? line.provider : null;
  if (!account) throw new Error('provider: required (the account name)');
  const status = STATUSES[String(line.status ?? 'unknown')] ?? 'unknown';
  const via = line.source === 'piggyback' ? 'piggyback' : 'probe';
  const readings: QuotaReadingV1[] = [];
  for (const [field, window, seconds, resetField] of [
    ['utilization_5h', '5h', 18_000, 'reset_5h'],
    ['utilization_7d', '7d', 604_800, 'reset_7d'],
  ] as const) {
    const used = numberOrNull(line[field], field);
    if (used === null) continue;
    const reset = numberOrNull(line[resetField], resetField);
    readings.push({
      provider: 'anthropic',
      account,
      window,
      windowSeconds: seconds,
      usedRatio: used,
      rawValue: used,
      rawUnit: 'fraction',
      resetsAt: reset === null ? null : new Date(reset * 1000),
      // token-monitor logged one status for the account (its binding window's).
      status,
      obtainedVia: via,
      observedAt,
    });
  }
  return readings;
}

function numberOrNull(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${field}: must be a number`);
  return value;
}
