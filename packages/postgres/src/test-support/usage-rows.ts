import type { UsageRow } from '@utt/core';

/**
 * A token_usage row for tests: '' dimensions, NULL counters and no cost unless
 * overridden. Built directly, not through core's schema, so a test can plant a
 * row that breaks an invariant and check that the store or verify catches it.
 */
export function usageRow(overrides: Partial<UsageRow> = {}): UsageRow {
  return {
    source_system: 'test_system',
    source_instance: '',
    granularity: 'hour',
    bucket_start: new Date('2025-03-01T10:00:00Z'),
    provider: 'openai',
    model: 'gpt-4o',
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
    measurement_basis: 'exact',
    ...overrides,
  };
}

/** `count` hourly rows starting at `start`, one per hour. */
export function hourlyRows(count: number, start: Date, overrides: Partial<UsageRow> = {}): UsageRow[] {
  return Array.from({ length: count }, (_, index) =>
    usageRow({ bucket_start: new Date(start.getTime() + index * 3_600_000), input_tokens: index, ...overrides }),
  );
}
