import { describe, expect, it } from 'vitest';
import { convertLitellmSeries, convertLitellmSpend, type TokenMetricKey } from './convert-litellm-series';
import { litellmPrometheusConfigSchema } from './litellm-prometheus-config';
import type { PrometheusSeries } from './prometheus-api';

const config = litellmPrometheusConfigSchema.parse({ prometheusUrl: 'http://prometheus:9090' });
const window = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-01T02:00:00Z'), granularity: 'hour' as const };
// 01:00 closes the hour that starts at 00:00.
const at = (value: string, time = 1772326800): PrometheusSeries[] => [{ metric: { model: 'claude', api_provider: 'anthropic', api_key_alias: 'ci' }, values: [[time, value]] }];

describe('convertLitellmSeries', () => {
  it('takes cache reads and cache writes out of prompt tokens', () => {
    const series = new Map<TokenMetricKey, PrometheusSeries[]>([
      ['input', at('1000')],
      ['cacheRead', at('300')],
      ['cacheWrite', at('200')],
    ]);
    expect(convertLitellmSeries(series, config, window)[0]).toMatchObject({ input_tokens: 500, cached_read_tokens: 300, cached_write_tokens: 200, output_tokens: null });
    const readsOnly = litellmPrometheusConfigSchema.parse({ prometheusUrl: 'http://p:9090', inputIncludesCacheWrite: false });
    expect(convertLitellmSeries(series, readsOnly, window)[0]).toMatchObject({ input_tokens: 700 });
  });

  it('never writes a negative input or more reasoning than output, and says so', () => {
    const warnings: string[] = [];
    const series = new Map<TokenMetricKey, PrometheusSeries[]>([
      ['input', at('100')],
      ['cacheRead', at('120')],
      ['output', at('50')],
      ['reasoning', at('51')],
    ]);
    const [record] = convertLitellmSeries(series, config, window, (message) => warnings.push(message));
    expect(record).toMatchObject({ input_tokens: 0, cached_read_tokens: 120, output_tokens: 50, reasoning_tokens: 50 });
    expect(warnings).toEqual(['cache tokens exceed prompt tokens in an hour; input set to 0', 'reasoning tokens exceed output tokens in an hour; capped at output']);
  });

  it('adds up label sets that map to one row, and drops points outside the window', () => {
    const series = new Map<TokenMetricKey, PrometheusSeries[]>([
      [
        'output',
        [
          { metric: { model: 'gpt-4o', api_key_alias: 'ci', end_user: 'a' }, values: [[1772326800, '10'], [1772337600, '999']] },
          { metric: { model: 'gpt-4o', api_key_alias: 'ci', end_user: 'None', user: 'a' }, values: [[1772326800, '5']] },
        ],
      ],
    ]);
    const records = convertLitellmSeries(series, config, window);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ model: 'gpt-4o', user_id: 'a', output_tokens: 15, provider: 'litellm' });
  });
});

describe('convertLitellmSpend', () => {
  it('sums hourly spend per UTC day, provider, team and model', () => {
    const series: PrometheusSeries[] = [
      { metric: { model: 'claude', api_provider: 'anthropic', team: 'None', team_alias: 'ml' }, values: [[1772326800, '0.1'], [1772330400, '0.2'], [1772413200, '1.5']] },
    ];
    const days = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z'), granularity: 'hour' as const };
    expect(convertLitellmSpend(series, config, days)).toEqual([
      { bucket_start: new Date('2026-03-01T00:00:00Z'), provider: 'anthropic', account: 'ml', model: 'claude', line_item: 'litellm_spend', amount_usd: 0.3 },
      { bucket_start: new Date('2026-03-02T00:00:00Z'), provider: 'anthropic', account: 'ml', model: 'claude', line_item: 'litellm_spend', amount_usd: 1.5 },
    ]);
  });
});
