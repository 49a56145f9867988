import { validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { copilotConfigSchema } from './copilot-config';

const validate = (config: unknown) => validateWithSchema(copilotConfigSchema, config, 'config');

describe('copilotConfigSchema', () => {
  it('fills the defaults: public API, API version 2026-03-10, every report, no token estimate', async () => {
    expect(await validate({ org: 'octo-org', token: 't0ken-value' })).toEqual({
      ok: true,
      value: {
        org: 'octo-org',
        token: 't0ken-value',
        baseUrl: 'https://api.github.com',
        apiVersion: '2026-03-10',
        reports: { usageMetrics: true, premiumRequests: true, aiCredits: true },
      },
    });
  });

  it('drops a trailing slash from baseUrl', async () => {
    const result = await validate({ enterprise: 'acme', token: 'x', baseUrl: 'http://127.0.0.1:8080/api/' });
    expect(result.ok && result.value.baseUrl).toBe('http://127.0.0.1:8080/api');
  });

  it('needs exactly one of org and enterprise', async () => {
    expect(await validate({ token: 'x' })).toEqual({ ok: false, issues: ['config.org: set exactly one of org and enterprise'] });
    expect(await validate({ org: 'a', enterprise: 'b', token: 'x' })).toEqual({ ok: false, issues: ['config.org: set exactly one of org and enterprise'] });
  });

  it('names a missing or empty token without echoing anything', async () => {
    expect(await validate({ org: 'a' })).toEqual({ ok: false, issues: ['config.token: required: a GitHub token, e.g. token: "${GITHUB_TOKEN}"'] });
    expect(await validate({ org: 'a', token: '  ' })).toEqual({ ok: false, issues: ['config.token: must not be empty (is the environment variable set?)'] });
  });

  it('refuses an empty estimate, a fractional factor, unknown keys and all reports off', async () => {
    expect(await validate({ org: 'a', token: 'x', estimateTokens: {} })).toEqual({
      ok: false,
      issues: ['config.estimateTokens: set at least one of inputPerInteraction, outputPerInteraction, outputPerAcceptedLine (or leave estimateTokens out)'],
    });
    expect(await validate({ org: 'a', token: 'x', estimateTokens: { perAcceptedLine: 3 } })).toEqual({
      ok: false,
      issues: [
        'config.estimateTokens: Unrecognized key: "perAcceptedLine"',
        'config.estimateTokens: set at least one of inputPerInteraction, outputPerInteraction, outputPerAcceptedLine (or leave estimateTokens out)',
      ],
    });
    expect(await validate({ org: 'a', token: 'x', estimateTokens: { outputPerInteraction: 2.5 } })).toEqual({
      ok: false,
      issues: ['config.estimateTokens.outputPerInteraction: expected a whole number of tokens'],
    });
    expect(await validate({ org: 'a', token: 'x', reports: { usageMetrics: false, premiumRequests: false, aiCredits: false } })).toEqual({
      ok: false,
      issues: ['config.reports: enable at least one report'],
    });
  });

  it('refuses an org name that is not a GitHub slug (it becomes part of a URL path)', async () => {
    expect(await validate({ org: '../admin', token: 'x' })).toEqual({
      ok: false,
      issues: ['config.org: expected a GitHub organisation or enterprise slug such as "my-org"'],
    });
  });
});
