import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssuePath, formatIssues } from './format-issues';
import { validateWithSchema } from './validate-with-schema';

describe('formatIssuePath', () => {
  it('writes keys with dots and indexes with brackets', () => {
    expect(formatIssuePath('sources', [2, 'config', 'adminKey'])).toBe('sources[2].config.adminKey');
    expect(formatIssuePath('', ['data', 0, 'results', { key: 1 }, 'input_tokens'])).toBe('data[0].results[1].input_tokens');
    expect(formatIssuePath('root', undefined)).toBe('root');
  });
});

describe('formatIssues', () => {
  it('names the path of each issue and never echoes the value', () => {
    const result = z.object({ adminKey: z.string().min(10), port: z.number() }).safeParse({ adminKey: 'CANARY', port: 'CANARY' });
    expect(result.success).toBe(false);
    const issues = formatIssues(result.error?.issues ?? [], 'sources[0].config');
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^sources\[0\]\.config\.adminKey: /);
    expect(issues[1]).toMatch(/^sources\[0\]\.config\.port: /);
    expect(issues.join()).not.toContain('CANARY');
  });

  it('leaves a root issue without a path prefix', () => {
    expect(formatIssues([{ message: 'expected object' }])).toEqual(['expected object']);
  });
});

describe('validateWithSchema', () => {
  it('returns the parsed value, defaults applied', async () => {
    await expect(validateWithSchema(z.object({ days: z.number().default(7) }), {})).resolves.toEqual({ ok: true, value: { days: 7 } });
  });

  it('returns issues under a base path', async () => {
    await expect(validateWithSchema(z.object({ days: z.number() }), { days: 'x' }, 'config')).resolves.toEqual({
      ok: false,
      issues: [expect.stringMatching(/^config\.days: /)],
    });
  });

  it('works with any Standard Schema, async ones included', async () => {
    const schema = {
      '~standard': {
        version: 1 as const,
        vendor: 'hand-made',
        validate: async (value: unknown) =>
          typeof value === 'string' ? { value: value.toUpperCase() } : { issues: [{ message: 'expected a string', path: ['name'] }] },
      },
    };
    await expect(validateWithSchema(schema, 'abc')).resolves.toEqual({ ok: true, value: 'ABC' });
    await expect(validateWithSchema(schema, 1)).resolves.toEqual({ ok: false, issues: ['name: expected a string'] });
  });
});
