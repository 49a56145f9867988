import type { QuotaReadingV1 } from '@utt/core';

type Violation = { quotaMetric?: unknown; quotaId?: unknown; quotaValue?: unknown; quotaDimensions?: { model?: unknown } };

/**
 * Gemini API keys have no rate-limit headers: a 200 says the key works, a 429
 * body says which quota ran out (`google.rpc.QuotaFailure`: per-minute or
 * per-day by its quotaId, requests or input tokens, the limit) and when to
 * retry (`RetryInfo.retryDelay`, a protobuf duration such as "20.7s").
 */
export function geminiQuotaReadings(status: number, body: string, options: { account: string; observedAt: Date }): QuotaReadingV1[] {
  const base = { provider: 'google', account: options.account, obtainedVia: 'probe' as const, observedAt: options.observedAt };
  if (status !== 429) {
    return [{ ...base, window: 'account', windowSeconds: null, usedRatio: null, status: 'allowed', detail: 'key valid; Gemini reports limits only when one is exceeded' }];
  }
  let details: Array<Record<string, unknown>> = [];
  try {
    details = ((JSON.parse(body) as { error?: { details?: Array<Record<string, unknown>> } }).error?.details ?? []) as Array<Record<string, unknown>>;
  } catch {
    // A 429 without the JSON body still means rejected.
  }
  const retry = details.find((detail) => String(detail['@type']).endsWith('google.rpc.RetryInfo'));
  const delay = typeof retry?.retryDelay === 'string' ? Number.parseFloat(retry.retryDelay) : Number.NaN;
  const resetsAt = Number.isFinite(delay) ? new Date(options.observedAt.getTime() + delay * 1000) : null;
  const violations = details
    .filter((detail) => String(detail['@type']).endsWith('google.rpc.QuotaFailure'))
    .flatMap((detail) => (Array.isArray(detail.violations) ? (detail.violations as Violation[]) : []));
  if (violations.length === 0) {
    return [{ ...base, window: 'account', windowSeconds: null, usedRatio: null, status: 'rejected', resetsAt, detail: 'HTTP 429 RESOURCE_EXHAUSTED' }];
  }
  const seen = new Set<string>();
  const readings: QuotaReadingV1[] = [];
  for (const violation of violations) {
    const id = typeof violation.quotaId === 'string' ? violation.quotaId : '';
    const perDay = /PerDay/i.test(id);
    const kind = /InputTokens/i.test(id) ? 'input_tokens' : /OutputTokens/i.test(id) ? 'output_tokens' : /Tokens/i.test(id) ? 'tokens' : 'requests';
    const model = typeof violation.quotaDimensions?.model === 'string' ? `_${violation.quotaDimensions.model.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}` : '';
    const window = `${kind}_${perDay ? '1d' : '1m'}${model}`;
    if (seen.has(window)) continue;
    seen.add(window);
    const limit = typeof violation.quotaValue === 'string' || typeof violation.quotaValue === 'number' ? Number(violation.quotaValue) : null;
    readings.push({
      ...base,
      window,
      windowSeconds: perDay ? 86_400 : 60,
      usedRatio: 1,
      rawValue: limit,
      rawUnit: kind,
      limit: limit !== null && Number.isFinite(limit) ? limit : null,
      remaining: 0,
      // A daily quota's RetryInfo is not its reset (Google sends it for daily limits too).
      resetsAt: perDay ? null : resetsAt,
      status: 'rejected',
      detail: id || null,
    });
  }
  return readings;
}
