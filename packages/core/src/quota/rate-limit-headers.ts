import type { QuotaObtainedViaV1, QuotaReadingV1, QuotaStatusV1 } from '../adapter/v1/quota-reading-v1';
import { parseDuration } from '../time/duration';
import { scopeSuffix } from './classify-quota-window';

/** Response headers as a fetch Headers, a Node IncomingHttpHeaders or a plain record. */
export type RateLimitHeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type RateLimitHeaderOptions = {
  /** Which provider's convention to read: `anthropic` (standard and unified headers), `openai` or `xai` (`x-ratelimit-*`). */
  readonly provider: 'anthropic' | 'openai' | 'xai';
  /** The account the response belongs to: an alias, email or organisation id, never the key. */
  readonly account: string;
  /** When the response arrived; relative resets (`6m0s`) count from here. */
  readonly observedAt: Date;
  /** `piggyback` for the application's own traffic (the default), `probe` for a minimal call made to read them. */
  readonly obtainedVia?: QuotaObtainedViaV1;
  /** The response's HTTP status: a 429 marks the exhausted windows `rejected`. */
  readonly httpStatus?: number;
};

const ANTHROPIC_STANDARD: readonly (readonly [string, string])[] = [
  ['requests', 'requests_1m'],
  ['tokens', 'tokens_1m'],
  ['input-tokens', 'input_tokens_1m'],
  ['output-tokens', 'output_tokens_1m'],
];

const OPENAI_STYLE: readonly (readonly [string, string])[] = [
  ['requests', 'requests_1m'],
  ['tokens', 'tokens_1m'],
];

/**
 * Turns the rate-limit headers of one response into quota readings, with no
 * extra call: Anthropic's standard per-minute headers and its unified
 * subscription headers (`anthropic-ratelimit-unified-5h-utilization`, a
 * fraction), and OpenAI's and xAI's `x-ratelimit-*` (Go-style reset durations).
 * Pure: the in-process tracker calls it on the headers it captures
 * (obtainedVia `piggyback`), a probe on the headers of its minimal call.
 * Returns [] when the response carries none.
 */
export function quotaReadingsFromHeaders(headers: RateLimitHeaderSource, options: RateLimitHeaderOptions): QuotaReadingV1[] {
  const get = headerReader(headers);
  const base = {
    provider: options.provider,
    account: options.account,
    obtainedVia: options.obtainedVia ?? 'piggyback',
    observedAt: options.observedAt,
  } as const;
  const rejectedResponse = options.httpStatus === 429;
  const readings: QuotaReadingV1[] = [];

  if (options.provider === 'anthropic') {
    for (const [kind, window] of ANTHROPIC_STANDARD) {
      const limit = numberOf(get(`anthropic-ratelimit-${kind}-limit`));
      const remaining = numberOf(get(`anthropic-ratelimit-${kind}-remaining`));
      if (limit === null && remaining === null) continue;
      readings.push(
        countReading(base, window, kind.replace('-', '_'), limit, remaining, isoDate(get(`anthropic-ratelimit-${kind}-reset`)), rejectedResponse),
      );
    }
    for (const reading of unifiedReadings(headers, get, base)) readings.push(reading);
  } else {
    for (const [kind, window] of OPENAI_STYLE) {
      const limit = numberOf(get(`x-ratelimit-limit-${kind}`));
      const remaining = numberOf(get(`x-ratelimit-remaining-${kind}`));
      if (limit === null && remaining === null) continue;
      readings.push(
        countReading(base, window, kind, limit, remaining, relativeReset(get(`x-ratelimit-reset-${kind}`), options.observedAt), rejectedResponse),
      );
    }
  }
  return readings;
}

type Base = Pick<QuotaReadingV1, 'provider' | 'account' | 'obtainedVia' | 'observedAt'>;

function countReading(
  base: Base,
  window: string,
  unit: string,
  limit: number | null,
  remaining: number | null,
  resetsAt: Date | null,
  rejectedResponse: boolean,
): QuotaReadingV1 {
  const used = limit !== null && remaining !== null ? limit - remaining : null;
  const usedRatio = used !== null && limit !== null && limit > 0 ? used / limit : null;
  const exhausted = remaining !== null && remaining <= 0;
  return {
    ...base,
    window,
    windowSeconds: 60,
    usedRatio,
    rawValue: used,
    rawUnit: unit,
    limit,
    remaining,
    resetsAt,
    status: rejectedResponse && (exhausted || usedRatio === null) ? 'rejected' : exhausted ? 'warning' : 'allowed',
  };
}

// Claims seen: 5h, 7d, 7d_oi, 7d-sonnet; parse any `<claim>-utilization` generically.
function unifiedReadings(headers: RateLimitHeaderSource, get: (name: string) => string | null, base: Base): QuotaReadingV1[] {
  const prefix = 'anthropic-ratelimit-unified-';
  const claims = new Set<string>();
  for (const name of headerNames(headers)) {
    const match = new RegExp(`^${prefix}(.+)-utilization$`).exec(name);
    if (match?.[1] && match[1] !== 'overage') claims.add(match[1]);
  }
  const overall = unifiedStatus(get(`${prefix}status`));
  const readings: QuotaReadingV1[] = [];
  for (const claim of [...claims].sort()) {
    const fraction = numberOf(get(`${prefix}${claim}-utilization`));
    const window = unifiedWindowName(claim);
    readings.push({
      ...base,
      window,
      windowSeconds: window.startsWith('5h') ? 18_000 : window.startsWith('7d') ? 604_800 : null,
      usedRatio: fraction,
      rawValue: fraction,
      rawUnit: 'fraction',
      resetsAt: epochOrIso(get(`${prefix}${claim}-reset`)),
      status: unifiedStatus(get(`${prefix}${claim}-status`)) ?? overall ?? 'unknown',
    });
  }
  return readings;
}

function unifiedWindowName(claim: string): string {
  const match = /^(5h|7d)[-_]?(.*)$/.exec(claim);
  if (!match) return scopeSuffix(claim);
  return match[2] ? `${match[1]}_${scopeSuffix(match[2])}` : (match[1] as string);
}

function unifiedStatus(value: string | null): QuotaStatusV1 | null {
  if (value === null) return null;
  if (value === 'allowed') return 'allowed';
  if (value === 'allowed_warning') return 'warning';
  if (value === 'rejected') return 'rejected';
  return 'unknown';
}

function headerReader(headers: RateLimitHeaderSource): (name: string) => string | null {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const source = headers as { get(name: string): string | null };
    return (name) => source.get(name);
  }
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (value === undefined) continue;
    lower.set(key.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  return (name) => lower.get(name) ?? null;
}

function headerNames(headers: RateLimitHeaderSource): string[] {
  const names: string[] = [];
  if (typeof (headers as { forEach?: unknown }).forEach === 'function' && typeof (headers as { get?: unknown }).get === 'function') {
    (headers as unknown as Headers).forEach((_value, key) => {
      names.push(key.toLowerCase());
    });
    return names;
  }
  for (const key of Object.keys(headers)) names.push(key.toLowerCase());
  return names;
}

function numberOf(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function isoDate(value: string | null): Date | null {
  if (value === null || value.trim() === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Unix seconds (the unified headers), or ISO as some proxies rewrite them. */
function epochOrIso(value: string | null): Date | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return new Date(Number(value) * 1000);
  return isoDate(value);
}

/** `6m0s`, `1s`, `20ms` from the response time. */
function relativeReset(value: string | null, observedAt: Date): Date | null {
  if (value === null || value.trim() === '') return null;
  try {
    return new Date(observedAt.getTime() + parseDuration(/^\d+(\.\d+)?$/.test(value.trim()) ? `${value.trim()}s` : value));
  } catch {
    return null;
  }
}
