import { describe, expect, it } from 'vitest';
import { quotaReadingsFromHeaders } from './rate-limit-headers';

const AT = new Date('2026-12-03T12:00:00Z');

describe('quotaReadingsFromHeaders', () => {
  it('reads Anthropic standard per-minute headers (fetch Headers)', () => {
    const headers = new Headers({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-12-03T12:00:01Z',
      'anthropic-ratelimit-input-tokens-limit': '40000',
      'anthropic-ratelimit-input-tokens-remaining': '10000',
      'anthropic-ratelimit-input-tokens-reset': '2026-12-03T12:00:30Z',
    });
    const readings = quotaReadingsFromHeaders(headers, { provider: 'anthropic', account: 'api-team', observedAt: AT, obtainedVia: 'probe' });
    expect(readings.map((r) => [r.window, r.usedRatio, r.limit, r.remaining, r.rawUnit, (r.resetsAt as Date).toISOString(), r.status])).toEqual([
      ['requests_1m', 0.02, 50, 49, 'requests', '2026-12-03T12:00:01.000Z', 'allowed'],
      ['input_tokens_1m', 0.75, 40000, 10000, 'input_tokens', '2026-12-03T12:00:30.000Z', 'allowed'],
    ]);
    expect(readings[0]?.obtainedVia).toBe('probe');
  });

  it('reads the unified subscription headers (fractions, unix-second resets, per-model claims, statuses)', () => {
    const headers = {
      'anthropic-ratelimit-unified-status': 'allowed_warning',
      'anthropic-ratelimit-unified-5h-utilization': '0.42',
      'anthropic-ratelimit-unified-5h-reset': '1764766800',
      'anthropic-ratelimit-unified-5h-status': 'allowed',
      'Anthropic-Ratelimit-Unified-7d-Utilization': '1.02',
      'anthropic-ratelimit-unified-7d-reset': '1765000000',
      'anthropic-ratelimit-unified-7d-status': 'rejected',
      'anthropic-ratelimit-unified-7d-sonnet-utilization': '0.9',
      'anthropic-ratelimit-unified-overage-utilization': '0',
    };
    const readings = quotaReadingsFromHeaders(headers, { provider: 'anthropic', account: 'team-molto', observedAt: AT });
    expect(readings.map((r) => [r.window, r.windowSeconds, r.usedRatio, r.rawUnit, (r.resetsAt as Date | null)?.toISOString() ?? null, r.status, r.obtainedVia])).toEqual([
      ['5h', 18000, 0.42, 'fraction', '2025-12-03T13:00:00.000Z', 'allowed', 'piggyback'],
      ['7d', 604800, 1.02, 'fraction', '2025-12-06T05:46:40.000Z', 'rejected', 'piggyback'],
      ['7d_sonnet', 604800, 0.9, 'fraction', null, 'warning', 'piggyback'],
    ]);
  });

  it('reads OpenAI x-ratelimit headers with Go durations, and marks a 429 rejected', () => {
    const headers = {
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-tokens': '149984',
      'x-ratelimit-reset-tokens': '6m0s',
    };
    const readings = quotaReadingsFromHeaders(headers, { provider: 'openai', account: 'org-1', observedAt: AT, httpStatus: 429 });
    expect(readings.map((r) => [r.window, r.usedRatio, (r.resetsAt as Date | null)?.toISOString(), r.status])).toEqual([
      ['requests_1m', 1, '2026-12-03T12:00:01.000Z', 'rejected'],
      ['tokens_1m', 16 / 150000, '2026-12-03T12:06:00.000Z', 'allowed'],
    ]);
  });

  it('reads xAI the OpenAI way with fractional and millisecond resets; nothing from bare responses', () => {
    const readings = quotaReadingsFromHeaders(
      { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '7', 'x-ratelimit-reset-requests': '20ms' },
      { provider: 'xai', account: 'xai-face', observedAt: AT },
    );
    expect(readings.map((r) => [r.provider, r.window, r.usedRatio, (r.resetsAt as Date | null)?.toISOString()])).toEqual([
      ['xai', 'requests_1m', 0.3, '2026-12-03T12:00:00.020Z'],
    ]);
    expect(quotaReadingsFromHeaders({ 'content-type': 'application/json' }, { provider: 'openai', account: 'x', observedAt: AT })).toEqual([]);
  });
});
