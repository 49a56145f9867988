import { parseUsageRecord, validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { convertSubscriptionPlans } from './convert-subscription-plans';
import { type SubscriptionConfig, type SubscriptionConfigInput, subscriptionConfigSchema } from './subscription-config';

async function plansOf(input: SubscriptionConfigInput): Promise<SubscriptionConfig['plans']> {
  const result = await validateWithSchema(subscriptionConfigSchema, input);
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.value.plans;
}

const month = (text: string) => new Date(`${text}-01T00:00:00Z`);
const window = (start: string, end: string) => ({ start: month(start), end: month(end), granularity: 'month' as const });

/** The columns every subscription row shares. */
const NULL_COUNTERS = {
  input_tokens: null,
  output_tokens: null,
  cached_read_tokens: null,
  cached_write_tokens: null,
  cached_write_1h_tokens: null,
  reasoning_tokens: null,
  requests: null,
  cost_source: 'fixed',
  measurement_basis: 'derived_estimate',
  granularity: 'month',
  model: '',
} as const;

describe('convertSubscriptionPlans', () => {
  it('writes one row per plan and active month: mid-month start, end, seats, price override, custom plan', async () => {
    const plans = await plansOf({
      plans: [
        { name: 'team-claude', plan: 'claude-max-5x', seats: 3, start: '2026-01-01' },
        { name: 'chatgpt', plan: 'chatgpt-plus', start: '2026-03-15' },
        { name: 'cursor-trial', plan: 'cursor-pro', start: '2026-02-01', end: '2026-04-01' },
        { name: 'gemini', plan: 'google-ai-pro', monthlyUsd: '17.5', seats: 2, start: new Date('2025-06-01T00:00:00Z'), end: '2026-02-15', account: 'research' },
        { name: 'internal-llm', provider: 'acme', monthlyUsd: 99.99, seats: 3, start: '2026-06-01' },
      ],
    });

    const records = convertSubscriptionPlans(plans, window('2026-01', '2026-07'));

    expect(records).toEqual([
      // Claude Max 5x, $100 × 3 seats, every month of the window.
      { ...NULL_COUNTERS, bucket_start: month('2026-01'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      { ...NULL_COUNTERS, bucket_start: month('2026-02'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      { ...NULL_COUNTERS, bucket_start: month('2026-03'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      { ...NULL_COUNTERS, bucket_start: month('2026-04'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      { ...NULL_COUNTERS, bucket_start: month('2026-05'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      { ...NULL_COUNTERS, bucket_start: month('2026-06'), provider: 'anthropic', account: '', labels: { plan: 'claude-max-5x', subscription: 'team-claude' }, cost_usd: '300' },
      // ChatGPT Plus from 15 March: March is charged in full (no proration).
      { ...NULL_COUNTERS, bucket_start: month('2026-03'), provider: 'openai', account: '', labels: { plan: 'chatgpt-plus', subscription: 'chatgpt' }, cost_usd: '20' },
      { ...NULL_COUNTERS, bucket_start: month('2026-04'), provider: 'openai', account: '', labels: { plan: 'chatgpt-plus', subscription: 'chatgpt' }, cost_usd: '20' },
      { ...NULL_COUNTERS, bucket_start: month('2026-05'), provider: 'openai', account: '', labels: { plan: 'chatgpt-plus', subscription: 'chatgpt' }, cost_usd: '20' },
      { ...NULL_COUNTERS, bucket_start: month('2026-06'), provider: 'openai', account: '', labels: { plan: 'chatgpt-plus', subscription: 'chatgpt' }, cost_usd: '20' },
      // Cursor Pro ending (exclusively) on 1 April: February and March only.
      { ...NULL_COUNTERS, bucket_start: month('2026-02'), provider: 'cursor', account: '', labels: { plan: 'cursor-pro', subscription: 'cursor-trial' }, cost_usd: '20' },
      { ...NULL_COUNTERS, bucket_start: month('2026-03'), provider: 'cursor', account: '', labels: { plan: 'cursor-pro', subscription: 'cursor-trial' }, cost_usd: '20' },
      // Google AI Pro at an overridden $17.50 × 2, started before the window, ending 15 February (February charged in full).
      { ...NULL_COUNTERS, bucket_start: month('2026-01'), provider: 'google', account: 'research', labels: { plan: 'google-ai-pro', subscription: 'gemini' }, cost_usd: '35' },
      { ...NULL_COUNTERS, bucket_start: month('2026-02'), provider: 'google', account: 'research', labels: { plan: 'google-ai-pro', subscription: 'gemini' }, cost_usd: '35' },
      // A plan utt does not know: provider and price from the entry, $99.99 × 3 exactly.
      { ...NULL_COUNTERS, bucket_start: month('2026-06'), provider: 'acme', account: '', labels: { subscription: 'internal-llm' }, cost_usd: '299.97' },
    ]);
    for (const record of records) expect(() => parseUsageRecord(record)).not.toThrow();
  });

  it('keeps to the months whose start lies inside the window', async () => {
    const plans = await plansOf({ plans: [{ name: 'claude', plan: 'claude-pro', start: '2025-11-20', end: '2026-09-01' }] });

    expect(convertSubscriptionPlans(plans, window('2026-03', '2026-05')).map((record) => record.bucket_start)).toEqual([
      month('2026-03'),
      month('2026-04'),
    ]);
    // A window that starts mid-month holds no month start before the next one.
    const midMonth = { start: new Date('2026-03-10T00:00:00Z'), end: new Date('2026-04-10T00:00:00Z'), granularity: 'day' as const };
    expect(convertSubscriptionPlans(plans, midMonth).map((record) => record.bucket_start)).toEqual([month('2026-04')]);
    expect(convertSubscriptionPlans(plans, { ...midMonth, end: new Date('2026-03-11T00:00:00Z') })).toEqual([]);
    // Before the plan starts and after it ends.
    expect(convertSubscriptionPlans(plans, window('2025-08', '2025-11'))).toEqual([]);
    expect(convertSubscriptionPlans(plans, window('2026-09', '2027-01'))).toEqual([]);
    // Its first and last months, at the edges of a wide window.
    const all = convertSubscriptionPlans(plans, window('2025-01', '2027-01'));
    expect(all.map((record) => (record.bucket_start as Date).toISOString().slice(0, 7))).toEqual([
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
    ]);
  });

  it('charges a plan that ends on the 2nd for that month, and one ending on the 1st not', async () => {
    const plans = await plansOf({
      plans: [
        { name: 'ends-on-first', plan: 'perplexity-pro', start: '2026-01-01', end: '2026-03-01' },
        { name: 'ends-on-second', plan: 'perplexity-pro', start: '2026-01-01', end: '2026-03-02' },
      ],
    });
    const months = convertSubscriptionPlans(plans, window('2026-01', '2026-06')).map(
      (record) => `${record.labels?.subscription} ${(record.bucket_start as Date).toISOString().slice(0, 7)}`,
    );
    expect(months).toEqual(['ends-on-first 2026-01', 'ends-on-first 2026-02', 'ends-on-second 2026-01', 'ends-on-second 2026-02', 'ends-on-second 2026-03']);
  });
});
