import type { ReportRow } from '@utt/postgres';
import { describe, expect, it } from 'vitest';
import { formatReport } from './report-command';

function row(overrides: Partial<ReportRow>): ReportRow {
  return {
    periodStart: new Date('2026-10-01T00:00:00Z'),
    key: 'anthropic',
    sourceSystem: null,
    sourceInstance: null,
    provider: 'anthropic',
    model: null,
    label: null,
    inputTokens: 1000,
    outputTokens: 100,
    cachedReadTokens: null,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: null,
    requests: null,
    costUsd: null,
    flatFeeUsd: null,
    coveredUsd: null,
    unpricedRows: 0,
    unpricedTokens: 0,
    rowCount: 1,
    ...overrides,
  };
}

describe('formatReport', () => {
  it('by a tag no row carries, names the rows without it and says how a tag becomes a dimension', () => {
    const text = formatReport([row({ key: '', label: '', costUsd: '1.5' })], { period: 'day', by: 'label', label: 'user' });
    expect(text.split('\n')[2]).toMatch(/^2026-10-01 +\(no user\) /);
    expect(text).toContain("no row has a 'user' label: a tracker tag is a report dimension only when createTracker's labelTags lists it");
    const some = formatReport([row({ key: '', label: '' }), row({ key: 'acme', label: 'acme' })], { period: 'day', by: 'label', label: 'tenant' });
    expect(some).toContain('(no tenant)');
    expect(some).not.toContain('labelTags');
  });

  it('shows what a plan covers beside the cost and never adds it to the total', () => {
    const text = formatReport(
      [row({ costUsd: '200.25', flatFeeUsd: '200', coveredUsd: '12.5' }), row({ key: 'openai', provider: 'openai', costUsd: '1.75' })],
      { period: 'month', by: 'provider' },
    );
    expect(text).toMatch(/covered \(API-equiv\.\)/);
    expect(text).toMatch(/\$12\.50/);
    // The total is what was paid: the fee and the metered usage, not the covered usage.
    expect(text).toMatch(/total priced spend \$202\.00/);
    expect(text).toMatch(/usage worth \$12\.50 at API prices was covered by flat-fee subscriptions/);
  });

  it('says nothing about subscriptions when none covers usage', () => {
    const text = formatReport([row({ costUsd: '3' })], { period: 'day', by: 'provider' });
    expect(text).not.toMatch(/covered by flat-fee/);
  });
});
