import panelsSql from '../../../sql/queries/panels.sql';
import { describe, expect, it } from 'vitest';
import { parseNamedQueries } from './named-queries';
import { renderSql, storeTables } from './schema-name';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';

const panels = parseNamedQueries(panelsSql);

/** Stands in for Grafana's $__timeFilter(column) macro with a fixed range. */
function expandTimeFilter(sql: string): string {
  return sql.replace(
    /\$__timeFilter\((\w+)\)/g,
    "$1 >= '2025-03-01T00:00:00Z'::timestamptz AND $1 < '2025-04-01T00:00:00Z'::timestamptz",
  );
}

describe('sql/queries/panels.sql', () => {
  it('holds the three dashboard panels', () => {
    expect([...panels.keys()]).toEqual(['daily_tokens_by_provider', 'daily_cost_by_source', 'freshness_per_source']);
  });
});

describe.each(TEST_BACKENDS)('dashboard panels on $name', (backend) => {
  const store = useTestStore(backend);

  it('run against the migrated schema and return what the panels draw', async () => {
    const now = new Date('2025-03-02T00:05:00Z');
    await store().writeSourceWindow({
      source: 'gateway',
      sourceSystem: 'litellm',
      rows: [
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-01T10:00:00Z'), input_tokens: 10, output_tokens: 5, cached_read_tokens: 1 }),
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-01T11:00:00Z'), input_tokens: 1, cost_usd: '0.5', cost_source: 'computed' }),
      ],
      status: { status: 'ok' },
      now,
    });
    const run = <T>(name: string) =>
      store().client.query<T>(expandTimeFilter(renderSql(panels.get(name) ?? '', storeTables(store().schema))));

    expect(await run('daily_tokens_by_provider')).toEqual([
      { time: new Date('2025-03-01T00:00:00Z'), metric: 'openai', tokens: '17' },
    ]);
    expect(await run('daily_cost_by_source')).toEqual([
      { time: new Date('2025-03-01T00:00:00Z'), metric: 'litellm', cost_usd: '0.5' },
    ]);
    expect(await run('freshness_per_source')).toEqual([
      expect.objectContaining({ source: 'gateway', source_system: 'litellm', status: 'ok', updated_at: now, latest_usage_update: expect.any(Date) }),
    ]);
  });
});
