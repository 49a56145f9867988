import { validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { anthropicUsageConfigSchema } from './anthropic-usage-config';

describe('anthropicUsageConfigSchema', () => {
  it('fills the defaults: the public API, version 2023-06-01, no extra grouping, costs on', () => {
    expect(anthropicUsageConfigSchema.parse({ adminKey: 'sk-ant-admin01-x' })).toEqual({
      adminKey: 'sk-ant-admin01-x',
      baseUrl: 'https://api.anthropic.com',
      anthropicVersion: '2023-06-01',
      groupBy: [],
      costs: true,
    });
  });

  it('names each bad field and never repeats the key', async () => {
    const result = await validateWithSchema(anthropicUsageConfigSchema, {
      adminKey: '',
      baseUrl: 'not a url',
      anthropicVersion: 'latest',
      groupBy: ['model'],
      bucketWidth: '1h',
    });
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        'adminKey: must not be empty',
        'baseUrl: expected an http(s) URL such as https://api.anthropic.com',
        'anthropicVersion: expected a date such as "2023-06-01"',
        'groupBy[0]: expected one of api_key, workspace, service_tier, context_window, inference_geo',
      ]),
    );
    expect(issues.some((issue) => issue.includes('bucketWidth'))).toBe(true);
  });
});
