import type { QuotaObtainedViaV1, QuotaReadingV1, QuotaStatusV1 } from '../adapter/v1/quota-reading-v1';
import { InvalidRecordError } from '../errors/invalid-record-error';

export const QUOTA_STATUSES: readonly QuotaStatusV1[] = ['allowed', 'warning', 'rejected', 'auth_required', 'invalid_key', 'unknown'];
export const QUOTA_OBTAINED_VIA: readonly QuotaObtainedViaV1[] = ['endpoint', 'probe', 'log', 'piggyback'];

/** A validated reading, as the quota history stores it and the analyses read it. */
export type QuotaReading = {
  /** The configured source that produced it. */
  readonly source: string;
  readonly provider: string;
  readonly account: string;
  readonly window: string;
  readonly windowSeconds: number | null;
  readonly usedRatio: number | null;
  readonly rawValue: number | null;
  readonly rawUnit: string | null;
  readonly limit: number | null;
  readonly remaining: number | null;
  readonly resetsAt: Date | null;
  readonly status: QuotaStatusV1;
  readonly obtainedVia: QuotaObtainedViaV1;
  /** When the source first reported this exact reading. */
  readonly observedAt: Date;
  /** The last time the source reported it unchanged (identical readings are not stored twice). */
  readonly confirmedAt: Date;
  readonly detail: string | null;
};

// Tokens look like this; an account id never does. A last line of defence: the
// history is read by people and exported to Prometheus (invariant 13).
const SECRET_LIKE = /(sk-[A-Za-z0-9_-]{8,}|xai-[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.|Bearer\s)/;

/**
 * Validates an adapter's reading and fills the defaults (null for what is not
 * given). Refuses, naming the field, a reading whose account or detail looks
 * like a token, an unknown status, a ratio that is not a finite number.
 */
export function parseQuotaReading(input: QuotaReadingV1, context: { source: string; where?: string }): QuotaReading {
  const issues: string[] = [];
  const text = (field: string, value: unknown, pattern?: RegExp): string => {
    if (typeof value !== 'string' || value === '') {
      issues.push(`${field}: must be a non-empty string`);
      return '';
    }
    if (pattern && !pattern.test(value)) issues.push(`${field}: "${value}" is not a valid name`);
    return value;
  };
  const number = (field: string, value: unknown): number | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push(`${field}: must be a finite number or null`);
      return null;
    }
    return value;
  };
  const date = (field: string, value: unknown, required: boolean): Date | null => {
    if (value === undefined || value === null) {
      if (required) issues.push(`${field}: required`);
      return null;
    }
    const parsed = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(parsed.getTime())) {
      issues.push(`${field}: not a date`);
      return null;
    }
    return parsed;
  };
  const provider = text('provider', input.provider, /^[a-z0-9][a-z0-9_.-]*$/);
  const account = text('account', input.account);
  if (SECRET_LIKE.test(account)) issues.push('account: looks like a token or key; use an email, an organisation id or an alias');
  const window = text('window', input.window, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
  if (!QUOTA_STATUSES.includes(input.status)) issues.push(`status: must be one of ${QUOTA_STATUSES.join(', ')}`);
  if (!QUOTA_OBTAINED_VIA.includes(input.obtainedVia)) issues.push(`obtainedVia: must be one of ${QUOTA_OBTAINED_VIA.join(', ')}`);
  const windowSeconds = number('windowSeconds', input.windowSeconds);
  if (windowSeconds !== null && windowSeconds <= 0) issues.push('windowSeconds: must be > 0');
  const usedRatio = number('usedRatio', input.usedRatio);
  const detail = input.detail ?? null;
  if (detail !== null && SECRET_LIKE.test(detail)) issues.push('detail: looks like it contains a token');
  const observedAt = date('observedAt', input.observedAt, true);
  const reading: QuotaReading = {
    source: context.source,
    provider,
    account,
    window,
    windowSeconds,
    usedRatio,
    rawValue: number('rawValue', input.rawValue),
    rawUnit: input.rawUnit ?? null,
    limit: number('limit', input.limit),
    remaining: number('remaining', input.remaining),
    resetsAt: date('resetsAt', input.resetsAt, false),
    status: input.status,
    obtainedVia: input.obtainedVia,
    observedAt: observedAt ?? new Date(0),
    confirmedAt: observedAt ?? new Date(0),
    detail,
  };
  if (issues.length > 0) {
    throw new InvalidRecordError({ issues, where: context.where ?? `quota reading of source "${context.source}"` });
  }
  return reading;
}

/** The ratio that counts now: a window whose reset has passed has been replenished (used 0). */
export function effectiveUsedRatio(reading: Pick<QuotaReading, 'usedRatio' | 'resetsAt'>, now: Date): number | null {
  if (reading.resetsAt !== null && reading.resetsAt.getTime() <= now.getTime()) return 0;
  return reading.usedRatio;
}
