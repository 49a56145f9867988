import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../errors/invalid-record-error';
import { UttError } from '../errors/utt-error';
import type { TimeWindow } from '../time/time-window';
import { parseUsageRecord, toUsageRow } from './parse-usage-record';
import { TOKEN_COLUMNS, type UsageRecordInput, type UsageRow, usageRecordSchema, usageRowKey } from './usage-record';

const base = {
  granularity: 'hour',
  bucket_start: new Date('2025-03-14T10:00:00Z'),
  provider: 'openai',
  model: 'gpt-4o',
  measurement_basis: 'exact',
} satisfies UsageRecordInput;

/** The issues of a record that must be refused. */
function issuesOf(input: unknown): readonly string[] {
  try {
    parseUsageRecord(input);
  } catch (error) {
    expect(InvalidRecordError.isInstance(error)).toBe(true);
    return (error as InvalidRecordError).issues;
  }
  throw new Error('expected the record to be refused');
}

describe('usageRecordSchema / parseUsageRecord', () => {
  it('fills defaults: "" dimensions, {} labels, NULL counters and cost', () => {
    const record = parseUsageRecord(base);
    expect(record).toEqual({
      ...base,
      source_instance: '',
      account: '',
      api_key: '',
      user_id: '',
      labels: {},
      input_tokens: null,
      output_tokens: null,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
      reasoning_tokens: null,
      requests: null,
      cost_usd: null,
      cost_source: null,
    });
  });

  it('keeps NULL distinct from 0 (invariant 2)', () => {
    const record = parseUsageRecord({ ...base, input_tokens: 0, output_tokens: null, requests: 0 });
    expect(record.input_tokens).toBe(0);
    expect(record.output_tokens).toBeNull();
    expect(record.cached_read_tokens).toBeNull();
    expect(record.requests).toBe(0);
  });

  it('accepts the largest safe integer', () => {
    expect(parseUsageRecord({ ...base, input_tokens: Number.MAX_SAFE_INTEGER }).input_tokens).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(TOKEN_COLUMNS)('refuses a negative, fractional, unsafe or non-numeric %s and names it', (column) => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      const issues = issuesOf({ ...base, [column]: bad });
      expect(issues.length, `${column}=${String(bad)}`).toBeGreaterThan(0);
      for (const issue of issues) expect(issue.startsWith(`${column}: `), issue).toBe(true);
    }
  });

  it('names the field and the place in the error message', () => {
    expect(() => parseUsageRecord({ ...base, output_tokens: -3 }, 'openai-usage record 7')).toThrow(
      /invalid usage record \(openai-usage record 7\): output_tokens: must not be negative/,
    );
  });

  it.each<[string, string, boolean]>([
    ['hour', '2025-03-14T10:00:00Z', true],
    ['hour', '2025-03-14T10:30:00Z', false],
    ['hour', '2025-03-14T10:00:00.001Z', false],
    ['day', '2025-03-14T00:00:00Z', true],
    ['day', '2025-03-14T10:00:00Z', false],
    ['month', '2024-02-01T00:00:00Z', true],
    ['month', '2024-02-29T00:00:00Z', false],
    ['month', '2025-03-01T01:00:00Z', false],
  ])('a %s bucket starting at %s is accepted: %s', (granularity, start, ok) => {
    const input = { ...base, granularity, bucket_start: new Date(start) };
    if (ok) {
      expect(parseUsageRecord(input).bucket_start.toISOString()).toBe(new Date(start).toISOString());
    } else {
      const issues = issuesOf(input);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(new RegExp(`^bucket_start: .* is not the start of a UTC ${granularity}$`));
    }
  });

  it('coerces an ISO string with an offset to a Date', () => {
    expect(parseUsageRecord({ ...base, bucket_start: '2025-03-14T10:00:00Z' }).bucket_start).toEqual(
      new Date('2025-03-14T10:00:00Z'),
    );
    expect(parseUsageRecord({ ...base, bucket_start: '2025-03-14T12:00:00+02:00' }).bucket_start).toEqual(
      new Date('2025-03-14T10:00:00Z'),
    );
    // 00:00 in +02:00 is 22:00 the day before in UTC, not the start of a UTC day.
    expect(issuesOf({ ...base, granularity: 'day', bucket_start: '2025-03-14T00:00:00+02:00' })[0]).toMatch(/^bucket_start: /);
  });

  it('refuses an unreadable or invalid bucket_start', () => {
    for (const bad of ['yesterday', '2025-03-14', 1741946400000, new Date('nope'), undefined]) {
      const issues = issuesOf({ ...base, bucket_start: bad });
      expect(issues.some((issue) => issue.startsWith('bucket_start')), String(bad)).toBe(true);
    }
  });

  it('sets cost_usd and cost_source together or not at all', () => {
    expect(parseUsageRecord({ ...base, cost_usd: '1.25', cost_source: 'provider' })).toMatchObject({
      cost_usd: '1.25',
      cost_source: 'provider',
    });
    expect(issuesOf({ ...base, cost_usd: '1.25' })).toEqual(['cost_source: cost_usd and cost_source are set together or not at all']);
    expect(issuesOf({ ...base, cost_source: 'computed' })).toEqual([
      'cost_source: cost_usd and cost_source are set together or not at all',
    ]);
  });

  it('writes a numeric cost_usd as a plain decimal string', () => {
    const cost = (value: number) => parseUsageRecord({ ...base, cost_usd: value, cost_source: 'computed' }).cost_usd;
    expect(cost(0.1)).toBe('0.1');
    expect(cost(3)).toBe('3');
    expect(cost(0)).toBe('0');
    expect(cost(1e-7)).toBe('0.0000001');
    expect(cost(12.5)).toBe('12.5');
  });

  it('refuses a negative or malformed cost_usd', () => {
    for (const bad of [-1, '-1', '1e3', '1.', 'abc']) {
      expect(issuesOf({ ...base, cost_usd: bad, cost_source: 'provider' }).some((i) => i.startsWith('cost_usd'))).toBe(true);
    }
  });

  it('keeps cached_write_1h_tokens inside cached_write_tokens', () => {
    expect(parseUsageRecord({ ...base, cached_write_tokens: 10, cached_write_1h_tokens: 10 }).cached_write_1h_tokens).toBe(10);
    expect(issuesOf({ ...base, cached_write_tokens: 10, cached_write_1h_tokens: 11 })).toEqual([
      'cached_write_1h_tokens: is part of cached_write_tokens and cannot exceed it',
    ]);
    expect(issuesOf({ ...base, cached_write_1h_tokens: 1 })).toEqual([
      'cached_write_tokens: must be known when cached_write_1h_tokens is',
    ]);
  });

  it('keeps reasoning_tokens inside output_tokens', () => {
    expect(parseUsageRecord({ ...base, output_tokens: 10, reasoning_tokens: 10 }).reasoning_tokens).toBe(10);
    expect(parseUsageRecord({ ...base, reasoning_tokens: 10 }).reasoning_tokens).toBe(10);
    expect(issuesOf({ ...base, output_tokens: 10, reasoning_tokens: 11 })).toEqual([
      'reasoning_tokens: is part of output_tokens and cannot exceed it',
    ]);
  });

  it('requires provider, model, granularity and measurement_basis', () => {
    const { provider, model, granularity, measurement_basis, ...rest } = base;
    const issues = issuesOf(rest);
    for (const field of ['provider', 'model', 'granularity', 'measurement_basis']) {
      expect(issues.some((issue) => issue.startsWith(`${field}: `)), field).toBe(true);
    }
    expect(issuesOf({ ...base, provider: '' })).toEqual(['provider: required']);
    expect(issuesOf({ ...base, measurement_basis: 'guess' })[0]).toMatch(/^measurement_basis: /);
    expect(issuesOf({ ...base, granularity: 'week' })[0]).toMatch(/^granularity: /);
  });

  it('refuses unknown fields, so a typo is not silently dropped', () => {
    expect(issuesOf({ ...base, input_token: 5 }).join()).toMatch(/input_token/);
    // source_system is stamped by the worker, not written by an adapter.
    expect(issuesOf({ ...base, source_system: 'openai_api' }).join()).toMatch(/source_system/);
  });

  it('refuses non-string labels and names the label', () => {
    expect(issuesOf({ ...base, labels: { team: 5 } })[0]).toMatch(/^labels\.team: /);
  });

  it('InvalidRecordError is a UttError', () => {
    try {
      parseUsageRecord({});
      expect.unreachable();
    } catch (error) {
      expect(UttError.isInstance(error)).toBe(true);
      expect((error as Error).name).toBe('UTT_InvalidRecordError');
    }
  });

  it('usageRecordSchema is usable on its own', () => {
    expect(usageRecordSchema.safeParse(base).success).toBe(true);
    expect(usageRecordSchema.safeParse({ ...base, input_tokens: -1 }).success).toBe(false);
  });
});

describe('toUsageRow', () => {
  const window: TimeWindow = {
    start: new Date('2025-03-14T08:00:00Z'),
    end: new Date('2025-03-14T12:00:00Z'),
    granularity: 'hour',
  };

  it('stamps source_system and the default instance', () => {
    const row = toUsageRow(base, { sourceSystem: 'openai_api', defaultInstance: 'prod' });
    expect(row.source_system).toBe('openai_api');
    expect(row.source_instance).toBe('prod');
  });

  it('keeps an instance the record names', () => {
    const row = toUsageRow({ ...base, source_instance: 'eu' }, { sourceSystem: 'openai_api', defaultInstance: 'prod' });
    expect(row.source_instance).toBe('eu');
  });

  it('accepts buckets in [start, end) of the window', () => {
    const options = { sourceSystem: 'openai_api', defaultInstance: '', window };
    expect(toUsageRow({ ...base, bucket_start: window.start }, options).bucket_start).toEqual(window.start);
    expect(toUsageRow({ ...base, bucket_start: '2025-03-14T11:00:00Z' }, options).bucket_start).toEqual(
      new Date('2025-03-14T11:00:00Z'),
    );
  });

  it('refuses a record outside the window, naming bucket_start', () => {
    const options = { sourceSystem: 'openai_api', defaultInstance: '', window, where: 'record 3' };
    for (const start of ['2025-03-14T12:00:00Z', '2025-03-14T07:00:00Z']) {
      let caught: unknown;
      try {
        toUsageRow({ ...base, bucket_start: start }, options);
      } catch (error) {
        caught = error;
      }
      expect(InvalidRecordError.isInstance(caught)).toBe(true);
      const error = caught as InvalidRecordError;
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]).toMatch(/^bucket_start: .* is outside the window \[2025-03-14T08:00:00.000Z, 2025-03-14T12:00:00.000Z\)$/);
      expect(error.message).toContain('(record 3)');
    }
  });

  it('validates before stamping', () => {
    expect(() => toUsageRow({ ...base, input_tokens: -1 }, { sourceSystem: 's', defaultInstance: '' })).toThrow(
      /input_tokens/,
    );
  });
});

describe('usageRowKey', () => {
  const row = (overrides: Partial<UsageRow> = {}): UsageRow => ({
    ...toUsageRow(base, { sourceSystem: 'openai_api', defaultInstance: '' }),
    ...overrides,
  });

  it('is equal for label objects with different key order', () => {
    expect(usageRowKey(row({ labels: { team: 'a', env: 'prod' } }))).toBe(usageRowKey(row({ labels: { env: 'prod', team: 'a' } })));
  });

  it('ignores counters, which are not part of the conflict key', () => {
    expect(usageRowKey(row({ input_tokens: 5 }))).toBe(usageRowKey(row({ input_tokens: null })));
  });

  it('differs when any key column differs', () => {
    const reference = usageRowKey(row({ labels: { team: 'a' } }));
    const variants: Partial<UsageRow>[] = [
      { source_system: 'other' },
      { source_instance: 'eu' },
      { granularity: 'day', bucket_start: new Date('2025-03-14T00:00:00Z') },
      { bucket_start: new Date('2025-03-14T11:00:00Z') },
      { provider: 'azure' },
      { model: 'gpt-4o-mini' },
      { account: 'acme' },
      { api_key: 'key_1' },
      { user_id: 'u1' },
      { labels: { team: 'b' } },
      { labels: { team: 'a', env: '' } },
      { labels: {} },
    ];
    for (const variant of variants) expect(usageRowKey(row({ labels: { team: 'a' }, ...variant })), JSON.stringify(variant)).not.toBe(reference);
  });

  it('is equal for equal instants given as different Date objects', () => {
    expect(usageRowKey(row({ bucket_start: new Date('2025-03-14T10:00:00Z') }))).toBe(
      usageRowKey(row({ bucket_start: new Date(Date.parse('2025-03-14T10:00:00.000Z')) })),
    );
  });
});
