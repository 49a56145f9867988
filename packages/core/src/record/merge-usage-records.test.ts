import { describe, expect, it } from 'vitest';
import { mergeUsageRecords } from './merge-usage-records';

const base = { granularity: 'hour' as const, bucket_start: '2026-10-01T10:00:00Z', provider: 'openai', model: 'gpt-5', measurement_basis: 'exact' as const };

describe('mergeUsageRecords', () => {
  it('adds up records with one key; NULL only where every record is NULL', () => {
    const merged = mergeUsageRecords([
      { ...base, account: '', labels: { b: '2', a: '1' }, input_tokens: 10, cached_read_tokens: null, requests: 1 },
      { ...base, bucket_start: new Date('2026-10-01T10:00:00Z'), labels: { a: '1', b: '2' }, input_tokens: 5, cached_read_tokens: 3 },
      { ...base, model: 'gpt-5-mini', input_tokens: 1 },
    ]);
    expect(merged).toEqual([
      { ...base, account: '', labels: { b: '2', a: '1' }, input_tokens: 15, output_tokens: null, cached_read_tokens: 3, cached_write_tokens: null, cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1 },
      { ...base, model: 'gpt-5-mini', input_tokens: 1 },
    ]);
  });

  it('keeps records with different dimensions apart and does not modify its input', () => {
    const first = { ...base, api_key: 'k1', input_tokens: 1 };
    const records = [first, { ...base, api_key: 'k2', input_tokens: 2 }, { ...first }];
    const merged = mergeUsageRecords(records);
    expect(merged.map((record) => [record.api_key, record.input_tokens])).toEqual([
      ['k1', 2],
      ['k2', 2],
    ]);
    expect(first.input_tokens).toBe(1);
  });

  it('refuses records that carry a cost', () => {
    expect(() => mergeUsageRecords([{ ...base, cost_usd: '1', cost_source: 'provider' }])).toThrow(/counters only/);
  });
});
