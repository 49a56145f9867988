import { toScaledInteger } from '@utt/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPriceRegistry } from './load-price-registry';
import type { PriceRegistry } from './price-registry';
import { type PriceInput, priceUsage } from './price-usage';

type Counts = { -readonly [K in keyof CountsBase]: CountsBase[K] };
type CountsBase = Pick<PriceInput, 'input_tokens' | 'output_tokens' | 'cached_read_tokens' | 'cached_write_tokens' | 'cached_write_1h_tokens'>;

let registry: PriceRegistry;
beforeAll(async () => {
  registry = await loadPriceRegistry({
    overrides: {
      // Rates with 12 decimals, so rounding would show.
      'acme/tiered': {
        input: '1.234567890123',
        output: 7,
        cacheRead: '0.1',
        cacheWrite: '1.5',
        cacheWrite1h: '2.000000000001',
        longContext: { above: 200_000, input: 2.5, output: 14, cacheRead: 0.2, cacheWrite: 3, cacheWrite1h: 4 },
        serviceTiers: { batch: '0.5' },
      },
    },
  });
});

const count = fc.integer({ min: 0, max: 60_000 });
const countsArb = fc
  .record({ input_tokens: count, output_tokens: count, cached_read_tokens: count, cached_write_tokens: count, oneHour: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ oneHour, ...rest }): Counts => ({ ...rest, cached_write_1h_tokens: Math.floor(rest.cached_write_tokens * oneHour) }));
const models = fc.constantFrom(
  { provider: 'acme', model: 'tiered' },
  { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  { provider: 'google', model: 'gemini-2.5-pro' },
);
const labelsArb = fc.constantFrom<Record<string, string>>({}, { service_tier: 'batch' });

function cost(input: Omit<PriceInput, 'bucket_start'>): bigint {
  const result = priceUsage(registry, { ...input, bucket_start: new Date('2025-10-01T00:00:00Z'), granularity: 'day' });
  if (result.status !== 'priced') throw new Error(`unpriced: ${result.unpricedReason}`);
  return toScaledInteger(result.costUsd, 24);
}

describe('priceUsage properties', () => {
  it('is monotonic in every token count, tiers included (one request)', () => {
    const column = fc.constantFrom('input_tokens', 'output_tokens', 'cached_read_tokens', 'cached_write_tokens', 'cached_write_1h_tokens') satisfies fc.Arbitrary<keyof Counts>;
    fc.assert(
      fc.property(models, countsArb, column, fc.integer({ min: 1, max: 300_000 }), labelsArb, (model, counts, key, extra, labels) => {
        // Anthropic's Sonnet has no Gemini-style cache-write price gaps; Gemini 2.5 Pro has no cache-write rate at all.
        const usable = model.provider === 'google' ? { ...counts, cached_write_tokens: null, cached_write_1h_tokens: null } : counts;
        if (model.provider === 'google' && key.startsWith('cached_write')) return;
        const more: Counts = { ...usable, [key]: (usable[key] ?? 0) + extra };
        if (key === 'cached_write_1h_tokens') more.cached_write_tokens = (usable.cached_write_tokens ?? 0) + extra;
        const base = { ...model, labels, requests: 1 };
        expect(cost({ ...base, ...more }) >= cost({ ...base, ...usable })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('equals the exact sum of tokens times rates, for counts small and far beyond 2^53 units', () => {
    // acme/tiered below its 200k tier, priced by hand with BigInt: rates have 12 decimals, the multiplier 6.
    const rate = (text: string) => toScaledInteger(text, 12);
    const huge = fc.integer({ min: 0, max: 2 ** 40 });
    fc.assert(
      fc.property(fc.oneof(count, huge), fc.oneof(count, huge), fc.boolean(), (input, output, batch) => {
        const expected =
          (BigInt(input) * rate('1.234567890123') + BigInt(output) * rate('7')) * toScaledInteger(batch ? '0.5' : '1', 6);
        const labels: Record<string, string> = batch ? { service_tier: 'batch' } : {};
        const requests = input > 200_000 ? 2 : 1;
        const result = priceUsage(registry, {
          provider: 'acme',
          model: 'tiered',
          input_tokens: input,
          output_tokens: output,
          cached_read_tokens: null,
          cached_write_tokens: null,
          cached_write_1h_tokens: null,
          requests,
          labels: { ...labels, context_window: '0-200k' },
          bucket_start: new Date('2025-10-01T00:00:00Z'),
          granularity: 'day',
        });
        expect(result.status).toBe('priced');
        if (result.status === 'priced') expect(toScaledInteger(result.costUsd, 24)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('costs the same split in two when no tier threshold is crossed', () => {
    fc.assert(
      fc.property(models, countsArb, fc.double({ min: 0, max: 1, noNaN: true }), labelsArb, (model, counts, share, labels) => {
        // countsArb keeps a record's prompt under 200k, so neither half nor the whole crosses a tier.
        const usable = model.provider === 'google' ? { ...counts, cached_write_tokens: null, cached_write_1h_tokens: null } : counts;
        const part = (value: number | null) => (value === null ? null : Math.floor(value * share));
        const first: Counts = {
          input_tokens: part(usable.input_tokens),
          output_tokens: part(usable.output_tokens),
          cached_read_tokens: part(usable.cached_read_tokens),
          cached_write_tokens: part(usable.cached_write_tokens),
          cached_write_1h_tokens: part(usable.cached_write_1h_tokens),
        };
        const rest = (key: keyof Counts): number | null => (usable[key] === null ? null : (usable[key] as number) - (first[key] as number));
        const second: Counts = {
          input_tokens: rest('input_tokens'),
          output_tokens: rest('output_tokens'),
          cached_read_tokens: rest('cached_read_tokens'),
          cached_write_tokens: rest('cached_write_tokens'),
          cached_write_1h_tokens: rest('cached_write_1h_tokens'),
        };
        // The 1-hour part must stay within the writes on both sides.
        if ((second.cached_write_1h_tokens ?? 0) > (second.cached_write_tokens ?? 0)) return;
        const whole = cost({ ...model, labels, ...usable });
        expect(cost({ ...model, labels, ...first }) + cost({ ...model, labels, ...second })).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('never prices an unknown model, a missing rate or an unknown tier at 0', () => {
    const nullable = fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null });
    fc.assert(
      fc.property(
        fc.constantFrom('nobody/never-heard-of-it', 'openai/gpt-4o', 'acme/tiered'),
        fc.record({ input_tokens: nullable, output_tokens: nullable, cached_read_tokens: nullable, cached_write_tokens: nullable }),
        fc.constantFrom<Record<string, string>>({}, { service_tier: 'priority' }, { service_tier: 'mystery' }),
        (key, counts, labels) => {
          const [provider, model] = key.split('/') as [string, string];
          const result = priceUsage(registry, {
            provider,
            model,
            labels,
            bucket_start: new Date('2025-10-01T00:00:00Z'),
            ...counts,
            cached_write_1h_tokens: null,
          });
          const allNull = Object.values(counts).every((value) => value === null);
          const cannot =
            allNull ||
            provider === 'nobody' ||
            labels.service_tier !== undefined ||
            (provider === 'openai' && (counts.cached_write_tokens ?? 0) > 0);
          if (cannot) {
            expect(result.status).toBe('unpriced');
            expect(result).not.toHaveProperty('costUsd');
          } else {
            expect(result.status).toBe('priced');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
