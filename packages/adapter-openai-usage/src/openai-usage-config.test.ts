import { validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { openaiUsageConfigSchema } from './openai-usage-config';

describe('openaiUsageConfigSchema', () => {
  it('fills the defaults: the public API, completions and embeddings, no extra grouping, costs on', () => {
    expect(openaiUsageConfigSchema.parse({ adminKey: 'sk-admin-x' })).toEqual({
      adminKey: 'sk-admin-x',
      baseUrl: 'https://api.openai.com/v1',
      groupBy: [],
      endpoints: ['completions', 'embeddings'],
      costs: true,
    });
  });

  it('drops a trailing slash from baseUrl', () => {
    expect(openaiUsageConfigSchema.parse({ adminKey: 'k', baseUrl: 'http://proxy.internal:8080/openai/v1/' }).baseUrl).toBe(
      'http://proxy.internal:8080/openai/v1',
    );
  });

  it('names each bad field and never repeats the key', async () => {
    const result = await validateWithSchema(openaiUsageConfigSchema, {
      adminKey: '  ',
      baseUrl: 'ftp://example.com',
      groupBy: ['project', 'project', 'org'],
      endpoints: [],
      granularity: 'hour',
    });
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        'adminKey: must not be empty',
        'baseUrl: expected an http(s) URL such as https://api.openai.com/v1',
        'groupBy[2]: expected one of project, api_key, user, batch, service_tier',
        'endpoints: list at least one endpoint',
      ]),
    );
    expect(issues.some((issue) => issue.includes('granularity'))).toBe(true);
  });

  it('refuses a grouping listed twice', async () => {
    const result = await validateWithSchema(openaiUsageConfigSchema, { adminKey: 'k', groupBy: ['user', 'user'] });
    expect(result.ok ? [] : result.issues).toEqual(['groupBy: lists a grouping twice']);
  });
});
