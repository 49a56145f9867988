import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { InvalidAdapterError } from '../errors/invalid-adapter-error';
import { UnsupportedAdapterVersionError } from '../errors/unsupported-adapter-version-error';
import { UttError } from '../errors/utt-error';
import { createHttpClient } from '../http/http-client';
import { silentLogger } from '../logger';
import { defineAdapter } from './define-adapter';
import { describeUsageAdapterV1Problems, isUsageAdapterV1 } from './is-usage-adapter-v1';
import { resolveUsageAdapter, SUPPORTED_SPECIFICATION_VERSIONS } from './resolve-usage-adapter';
import type { UsageAdapterV1 } from './v1/usage-adapter-v1';
import type { UsageAdapterV1Context } from './v1/usage-adapter-v1-context';

const capabilities = {
  granularities: ['day'],
  cacheTokens: 'read_write',
  costSource: 'provider',
  measurementBasis: 'exact',
  maxBackfillDays: null,
  windowed: true,
} as const;

function goodAdapter(): Record<string, unknown> {
  return {
    specificationVersion: 'v1',
    id: 'openai-usage',
    sourceSystem: 'openai_api',
    configSchema: z.object({}),
    capabilities: { ...capabilities },
    collect: async () => [],
  };
}

function contextFor<TConfig>(config: TConfig): UsageAdapterV1Context<TConfig> {
  return {
    config,
    http: createHttpClient({ maxAttempts: 1 }),
    fetch: globalThis.fetch,
    env: {},
    logger: silentLogger,
    signal: new AbortController().signal,
    now: () => new Date('2025-03-14T12:00:00Z'),
    sourceName: 'test',
  };
}

describe('defineAdapter', () => {
  it('returns the adapter unchanged and infers the config type from configSchema', async () => {
    const configSchema = z.object({ baseUrl: z.url(), project: z.string().default('') });
    const adapter = defineAdapter({
      specificationVersion: 'v1',
      id: 'typed-usage',
      sourceSystem: 'typed_api',
      configSchema,
      capabilities,
      async check(context) {
        expectTypeOf(context.config).toEqualTypeOf<{ baseUrl: string; project: string }>();
        return { ok: true, detail: context.config.baseUrl };
      },
      async collect(window, context) {
        expectTypeOf(context.config).toEqualTypeOf<{ baseUrl: string; project: string }>();
        // @ts-expect-error: the config has no such field.
        void context.config.adminKey;
        return [
          {
            granularity: window.granularity,
            bucket_start: window.start,
            provider: 'typed',
            model: context.config.project,
            measurement_basis: 'exact',
          },
        ];
      },
    });
    expectTypeOf(adapter).toEqualTypeOf<UsageAdapterV1<{ baseUrl: string; project: string }>>();
    expect(adapter.configSchema).toBe(configSchema);
    expect(isUsageAdapterV1(adapter)).toBe(true);

    const context = contextFor({ baseUrl: 'https://api.example.com', project: 'p1' });
    await expect(adapter.check?.(context)).resolves.toEqual({ ok: true, detail: 'https://api.example.com' });
    const window = { start: new Date('2025-03-14T00:00:00Z'), end: new Date('2025-03-15T00:00:00Z'), granularity: 'day' as const };
    await expect(adapter.collect(window, context)).resolves.toEqual([expect.objectContaining({ model: 'p1' })]);
  });

  it('rejects a config type that does not match the schema (type level)', () => {
    defineAdapter({
      specificationVersion: 'v1',
      id: 'typed-usage',
      sourceSystem: 'typed_api',
      configSchema: z.object({ days: z.number() }),
      capabilities,
      async collect(_window, context) {
        // @ts-expect-error: days is a number, not a string.
        const days: string = context.config.days;
        void days;
        return [];
      },
    });
    defineAdapter({
      // @ts-expect-error: specificationVersion must be the literal 'v1'.
      specificationVersion: 'v2',
      id: 'future-usage',
      sourceSystem: 'future_api',
      configSchema: z.object({}),
      capabilities,
      collect: async () => [],
    });
  });
});

describe('isUsageAdapterV1 / describeUsageAdapterV1Problems', () => {
  it('accepts a good shape, with or without check', () => {
    expect(describeUsageAdapterV1Problems(goodAdapter())).toEqual([]);
    expect(isUsageAdapterV1(goodAdapter())).toBe(true);
    expect(isUsageAdapterV1({ ...goodAdapter(), check: async () => ({ ok: true }) })).toBe(true);
    // Quota is an optional capability added to v1: an adapter with or without it is a v1 adapter.
    expect(isUsageAdapterV1({ ...goodAdapter(), collectQuota: async () => [] })).toBe(true);
    expect(isUsageAdapterV1({ ...goodAdapter(), capabilities: { ...capabilities, maxBackfillDays: 90 } })).toBe(true);
  });

  it('accepts any Standard Schema, not only zod', () => {
    const configSchema = { '~standard': { version: 1, vendor: 'other', validate: (value: unknown) => ({ value }) } };
    expect(isUsageAdapterV1({ ...goodAdapter(), configSchema })).toBe(true);
  });

  it.each([null, undefined, 'adapter', 42, () => {}])('refuses a non-object (%s)', (value) => {
    expect(describeUsageAdapterV1Problems(value)).toEqual(['not an object']);
    expect(isUsageAdapterV1(value)).toBe(false);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['another version', { specificationVersion: 'v2' }, /^specificationVersion is v2, expected 'v1'$/],
    ['no version', { specificationVersion: undefined }, /^specificationVersion is undefined/],
    ['a snake_case id', { id: 'openai_usage' }, /^id must be kebab-case$/],
    ['an id with capitals', { id: 'OpenAI-usage' }, /^id must be kebab-case$/],
    ['a kebab-case sourceSystem', { sourceSystem: 'openai-api' }, /^sourceSystem must be snake_case$/],
    ['a plain object as schema', { configSchema: { parse() {} } }, /^configSchema is not a Standard Schema$/],
    ['no collect', { collect: undefined }, /^collect is not a function$/],
    ['a check that is not a function', { check: true }, /^check is not a function$/],
    ['a collectQuota that is not a function', { collectQuota: {} }, /^collectQuota is not a function$/],
    ['no capabilities', { capabilities: undefined }, /^capabilities missing$/],
    ['no granularities', { capabilities: { ...capabilities, granularities: [] } }, /^capabilities\.granularities must list/],
    ['windowed missing', { capabilities: { ...capabilities, windowed: undefined } }, /^capabilities\.windowed must be a boolean$/],
    ['bad cacheTokens', { capabilities: { ...capabilities, cacheTokens: 'all' } }, /^capabilities\.cacheTokens must be/],
    ['bad costSource', { capabilities: { ...capabilities, costSource: 'guess' } }, /^capabilities\.costSource is invalid$/],
    ['bad measurementBasis', { capabilities: { ...capabilities, measurementBasis: 'vibes' } }, /^capabilities\.measurementBasis is invalid$/],
    ['maxBackfillDays missing', { capabilities: { ...capabilities, maxBackfillDays: undefined } }, /^capabilities\.maxBackfillDays must be a number or null$/],
    ['an unknown stateLoading', { capabilities: { ...capabilities, stateLoading: 'lazy' } }, /^capabilities\.stateLoading must be 'eager' or 'on-demand'$/],
    ['usesPricer as a string', { capabilities: { ...capabilities, usesPricer: 'no' } }, /^capabilities\.usesPricer must be a boolean$/],
    ['maxBackfillDays as a string', { capabilities: { ...capabilities, maxBackfillDays: '30' } }, /^capabilities\.maxBackfillDays must be a number or null$/],
  ])('names the problem with %s', (_label, change, problem) => {
    const problems = describeUsageAdapterV1Problems({ ...goodAdapter(), ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
    expect(isUsageAdapterV1({ ...goodAdapter(), ...change })).toBe(false);
  });

  it('lists every problem, one line each', () => {
    expect(describeUsageAdapterV1Problems({ specificationVersion: 'v1' })).toEqual([
      'id must be kebab-case',
      'sourceSystem must be snake_case',
      'configSchema is not a Standard Schema',
      'collect is not a function',
      'capabilities missing',
    ]);
  });
});

describe('resolveUsageAdapter', () => {
  it('takes the default export of a module namespace', async () => {
    const namespace = await import('./__fixtures__/example-adapter');
    const adapter = resolveUsageAdapter(namespace, 'utt-adapter-example');
    expect(adapter).toBe(namespace.default);
    expect(adapter.id).toBe('example-usage');
  });

  it('takes an adapter object as it is', () => {
    const adapter = goodAdapter();
    expect(resolveUsageAdapter(adapter, '@utt/adapter-openai-usage')).toBe(adapter);
  });

  it('refuses specificationVersion v2 with UnsupportedAdapterVersionError, directly or as a default export', () => {
    for (const candidate of [{ ...goodAdapter(), specificationVersion: 'v2' }, { default: { ...goodAdapter(), specificationVersion: 'v2' } }]) {
      let caught: unknown;
      try {
        resolveUsageAdapter(candidate, 'utt-adapter-future');
      } catch (error) {
        caught = error;
      }
      expect(UnsupportedAdapterVersionError.isInstance(caught)).toBe(true);
      expect(UttError.isInstance(caught)).toBe(true);
      const error = caught as UnsupportedAdapterVersionError;
      expect(error.version).toBe('v2');
      expect(error.packageName).toBe('utt-adapter-future');
      expect(error.message).toContain(SUPPORTED_SPECIFICATION_VERSIONS.join(', '));
    }
  });

  it('refuses a module without a usable export with InvalidAdapterError naming the package and the problems', async () => {
    const namespace = await import('./__fixtures__/named-only');
    expect(() => resolveUsageAdapter(namespace, 'utt-adapter-named')).toThrow(InvalidAdapterError);
    expect(() => resolveUsageAdapter({ ...goodAdapter(), collect: 'nope' }, 'utt-adapter-broken')).toThrow(
      /^utt-adapter-broken is not a utt adapter: collect is not a function$/,
    );
    expect(() => resolveUsageAdapter(null, 'utt-adapter-null')).toThrow(/utt-adapter-null is not a utt adapter: not an object/);
  });
});
