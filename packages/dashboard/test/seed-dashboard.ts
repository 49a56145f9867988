import type { ProviderCostRow, UsageRow } from '@utt/core';
import type { UsageStore } from '@utt/postgres';

/** The clock every dashboard test uses: mid-afternoon, 20 October 2026 (UTC). */
export const SEED_NOW = new Date('2026-10-20T15:00:00Z');

/** Key ids planted in the seed; no page may show them in full. */
export const SEEDED_API_KEYS = ['key-prod-7f3a9c1e55', 'key-research-00b1d2e3f4'] as const;

/** A secret-looking string in an error message the worker already redacted would never contain; pages must still not add one. */
const HOUR = 3_600_000;

function row(overrides: Partial<UsageRow>): UsageRow {
  return {
    source_system: 'litellm',
    source_instance: '',
    granularity: 'hour',
    bucket_start: new Date('2026-10-01T00:00:00Z'),
    provider: 'openai',
    model: 'gpt-5',
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

/**
 * A small ledger that exercises every page: two metered providers over 60
 * days with a spike yesterday (anomaly), an unpriced model, a flat-fee
 * subscription and coding-agent usage it covers, billed costs to reconcile, a
 * stale failing source and a paused one.
 */
export async function seedDashboard(store: UsageStore, now = SEED_NOW): Promise<void> {
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const gateway: UsageRow[] = [];
  const costs: ProviderCostRow[] = [];
  for (let day = 60; day >= 1; day -= 1) {
    const start = dayStart - day * 24 * HOUR;
    const spike = day === 1 ? 10 : 1;
    for (const hour of [9, 14]) {
      gateway.push(
        row({
          bucket_start: new Date(start + hour * HOUR),
          provider: 'openai',
          model: 'gpt-5',
          account: 'product',
          api_key: SEEDED_API_KEYS[0],
          user_id: hour === 9 ? 'alice' : 'bob',
          input_tokens: 400_000 * spike,
          output_tokens: 50_000 * spike,
          cached_read_tokens: 100_000 * spike,
          reasoning_tokens: 10_000 * spike,
          requests: 40 * spike,
          cost_usd: (1.5 * spike).toFixed(2),
          cost_source: 'computed',
          price_ref: 'genai-prices@0.1.8:openai/gpt-5@2025-08-07',
        }),
        row({
          bucket_start: new Date(start + hour * HOUR),
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          account: 'research',
          api_key: SEEDED_API_KEYS[1],
          user_id: 'carol',
          input_tokens: 100_000,
          output_tokens: 20_000,
          cached_read_tokens: 300_000,
          cached_write_tokens: 40_000,
          cached_write_1h_tokens: 10_000,
          requests: 25,
          cost_usd: '0.75',
          cost_source: 'computed',
          price_ref: 'override:anthropic/claude-sonnet-4-5',
        }),
      );
    }
    gateway.push(
      row({
        bucket_start: new Date(start + 11 * HOUR),
        provider: 'mistral',
        model: '=HYPERLINK("http://evil.example")',
        input_tokens: 5_000,
        output_tokens: 1_000,
        requests: 2,
        unpriced_reason: 'no price for mistral/=HYPERLINK("http://evil.example")',
      }),
    );
    costs.push({
      source_system: 'litellm',
      source_instance: '',
      bucket_start: new Date(start),
      provider: 'openai',
      account: '',
      model: '',
      line_item: 'usage',
      amount_usd: day === 3 ? '3.60' : (3 * spike).toFixed(2),
      currency: 'USD',
    } as ProviderCostRow);
  }
  await store.writeSourceWindow({ source: 'gateway', sourceSystem: 'litellm', rows: gateway, providerCosts: costs, status: { status: 'ok' }, now: new Date(now.getTime() - 10 * 60_000), watermark: { at: new Date(dayStart + 14 * HOUR), granularity: 'hour' } });

  const months = [new Date('2026-09-01T00:00:00Z'), new Date('2026-10-01T00:00:00Z')];
  await store.writeSourceWindow({
    source: 'subscriptions',
    sourceSystem: 'subscription',
    rows: months.map((month) =>
      row({
        source_system: 'subscription',
        granularity: 'month',
        bucket_start: month,
        provider: 'anthropic',
        model: '',
        account: 'platform-team',
        labels: { plan: 'claude-max-5x', subscription: 'team-claude' },
        cost_usd: '300',
        cost_source: 'fixed',
        measurement_basis: 'derived_estimate',
      }),
    ),
    status: { status: 'ok' },
    now: new Date(now.getTime() - 5 * 60_000),
  });

  const agentRows: UsageRow[] = [];
  for (let day = 10; day >= 0; day -= 1) {
    const start = dayStart - day * 24 * HOUR;
    for (const [instance, project] of [
      ['alice@laptop', 'utt'],
      ['bob@desktop', 'website'],
    ] as const) {
      agentRows.push(
        row({
          source_system: 'claude_code',
          source_instance: instance,
          bucket_start: new Date(start + 10 * HOUR),
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          labels: { billing: 'subscription', project },
          input_tokens: 20_000,
          output_tokens: 8_000,
          cached_read_tokens: 500_000,
          cached_write_tokens: 30_000,
          cached_write_1h_tokens: 0,
          requests: 30,
          cost_usd: '2.25',
          cost_source: 'computed',
        }),
      );
    }
  }
  await store.writeSourceWindow({ source: 'claude-code', sourceSystem: 'claude_code', rows: agentRows, status: { status: 'ok' }, now: new Date(now.getTime() - 20 * 60_000) });

  await store.recordSourceStatus({ source: 'openai', sourceSystem: 'openai_usage', status: 'error', error: 'HTTP 401 from the OpenAI usage API: invalid admin key (key redacted)', now: new Date(now.getTime() - 30 * 60_000) });
  await store.recordSourceStatus({ source: 'copilot', sourceSystem: 'copilot', status: 'paused', now: new Date(now.getTime() - 3 * 24 * HOUR) });
  await store.heartbeat(new Date(now.getTime() - 10 * 60_000));
}
