import { validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { subscriptionConfigSchema } from './subscription-config';

async function issuesOf(input: unknown): Promise<string[]> {
  const result = await validateWithSchema(subscriptionConfigSchema, input, 'config');
  return result.ok ? [] : result.issues;
}

describe('subscriptionConfigSchema', () => {
  it('fills provider and price from a known plan, and defaults seats and account', async () => {
    const result = await validateWithSchema(subscriptionConfigSchema, { plans: [{ name: 'copilot', plan: 'copilot-business', start: '2026-01-01' }] });
    expect(result).toEqual({
      ok: true,
      value: {
        plans: [
          {
            name: 'copilot',
            plan: 'copilot-business',
            provider: 'github',
            monthlyUsd: '19',
            seats: 1,
            start: new Date('2026-01-01T00:00:00Z'),
            end: undefined,
            account: '',
          },
        ],
      },
    });
  });

  it('lets an entry override a known plan and normalises the price to an exact decimal', async () => {
    const result = await validateWithSchema(subscriptionConfigSchema, {
      plans: [{ name: 'gemini', plan: 'google-ai-pro', provider: 'google-workspace', monthlyUsd: 21.9, start: '2026-01-01' }],
    });
    expect(result.ok && result.value.plans[0]).toMatchObject({ provider: 'google-workspace', monthlyUsd: '21.9' });
  });

  it('reads a YAML date (a Date at UTC midnight) like the ISO string', async () => {
    const result = await validateWithSchema(subscriptionConfigSchema, {
      plans: [{ name: 'a', plan: 'claude-pro', start: new Date('2026-03-15T00:00:00Z'), end: '2026-06-01' }],
    });
    expect(result.ok && result.value.plans[0]).toMatchObject({ start: new Date('2026-03-15T00:00:00Z'), end: new Date('2026-06-01T00:00:00Z') });
  });

  it('names the path of each problem', async () => {
    expect(await issuesOf({})).toEqual(['config.plans: Invalid input: expected array, received undefined']);
    expect(await issuesOf({ plans: [] })).toEqual(['config.plans: list at least one plan']);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'chatgpt-team', start: '2026-01-01' }] })).toEqual([
      expect.stringMatching(/^config\.plans\[0\]\.plan: Invalid option: expected one of "chatgpt-plus"\|/),
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', start: '2026-01-01' }] })).toEqual([
      'config.plans[0].provider: required when plan does not name a known plan',
      'config.plans[0].monthlyUsd: required when plan does not name a known plan',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', provider: 'acme', start: '2026-01-01' }] })).toEqual([
      'config.plans[0].monthlyUsd: required when plan does not name a known plan',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', seats: 0, start: '2026-01-01' }] })).toEqual([
      'config.plans[0].seats: must be at least 1',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', seats: 1.5, start: '2026-01-01' }] })).toEqual([
      'config.plans[0].seats: expected a whole number',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', start: '2026-02-30' }] })).toEqual([
      'config.plans[0].start: expected a date such as 2026-03-15',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', start: '2026-03-01', end: '2026-03-01' }] })).toEqual([
      'config.plans[0].end: must be after start (end is exclusive)',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', monthlyUsd: '-5', start: '2026-03-01' }] })).toEqual([
      'config.plans[0].monthlyUsd: expected a decimal amount such as "19.99"',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', monthlyUsd: -5, start: '2026-03-01' }] })).toEqual([
      'config.plans[0].monthlyUsd: must not be negative',
    ]);
    expect(await issuesOf({ plans: [{ name: 'x', plan: 'claude-pro', seat: 3, start: '2026-03-01' }] })).toEqual([
      'config.plans[0]: Unrecognized key: "seat"',
    ]);
    expect(
      await issuesOf({
        plans: [
          { name: 'team', plan: 'claude-pro', start: '2026-01-01' },
          { name: 'team', plan: 'chatgpt-plus', start: '2026-01-01' },
        ],
      }),
    ).toEqual(['config.plans[1].name: is used by an earlier plan; names must be unique']);
  });

  it('never repeats the value it refused', async () => {
    const secretLooking = 'sk-live-do-not-echo-4411';
    const issues = await issuesOf({
      plans: [{ name: 'x', plan: secretLooking, provider: 7, monthlyUsd: secretLooking, seats: secretLooking, start: secretLooking, end: secretLooking }],
    });
    expect(issues.length).toBeGreaterThanOrEqual(6);
    expect(issues.join('\n')).not.toContain(secretLooking);
  });
});
