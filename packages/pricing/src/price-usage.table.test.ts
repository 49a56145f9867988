import { beforeAll, describe, expect, it } from 'vitest';
import { loadPriceRegistry } from './load-price-registry';
import type { PriceRegistry } from './price-registry';
import { type PriceInput, priceUsage } from './price-usage';

/**
 * Hand-computed costs from the providers' published price pages, priced by the
 * bundled genai-prices registry. USD per million tokens unless noted.
 *
 * OpenAI — https://platform.openai.com/docs/pricing (Standard tier; "Batch"
 *   50% off; Flex processing at Batch rates; Priority priced per model):
 *   gpt-4o 2.50 in / 1.25 cached / 10.00 out; gpt-4o-mini 0.15 / 0.075 / 0.60;
 *   gpt-4.1 2.00 / 0.50 / 8.00; gpt-5 1.25 / 0.125 / 10.00;
 *   o3 2.00 / 0.50 / 8.00 since the 2025-06-10 price cut (10.00 / 40.00 before).
 *   OpenAI has no cache-write price.
 * Anthropic — https://docs.anthropic.com/en/docs/about-claude/pricing:
 *   Sonnet 4.5 3 in / 15 out / 0.30 cache hit / 3.75 5m write / 6 1h write;
 *   prompts over 200k: 6 / 22.50 / 0.60 / 7.50 / 12 (the whole request);
 *   Opus 4.1 15 / 75 / 1.50 / 18.75 / 30; Haiku 4.5 1 / 5 / 0.10 / 1.25 / 2;
 *   Batch processing 50% off.
 * Google — https://ai.google.dev/gemini-api/docs/pricing:
 *   Gemini 2.5 Pro 1.25 in / 10 out / 0.125 cache (prompts <= 200k),
 *   2.50 / 15 / 0.25 above; 2.5 Flash 0.30 / 2.50 / 0.03;
 *   2.0 Flash 0.10 / 0.40 / 0.025; 1.5 Pro 1.25 / 5 (<= 128k), 2.50 / 10 above;
 *   Batch Mode 50% of the interactive price.
 * DeepSeek (open weights) — https://api-docs.deepseek.com/quick_start/pricing:
 *   deepseek-chat 0.27 in (cache miss) / 0.07 cache hit / 1.10 out in standard
 *   hours 00:30–16:30 UTC, 50% off (0.135 / 0.035 / 0.55) off-peak;
 *   deepseek-reasoner 0.55 / 0.14 / 2.19 standard.
 */
type Case = {
  readonly name: string;
  readonly provider: string;
  readonly model: string;
  readonly at?: string;
  readonly granularity?: PriceInput['granularity'];
  readonly labels?: Record<string, string>;
  readonly tokens: Partial<Pick<PriceInput, 'input_tokens' | 'output_tokens' | 'cached_read_tokens' | 'cached_write_tokens' | 'cached_write_1h_tokens' | 'requests'>> & {
    readonly reasoning_tokens?: number;
  };
  /** A cost in USD, or the stored unpriced reason. */
  readonly expected: string | { readonly unpriced: string };
};

const M = 1_000_000;
const K = 1_000;

const CASES: readonly Case[] = [
  // OpenAI
  { name: 'gpt-4o plain', provider: 'openai', model: 'gpt-4o', tokens: { input_tokens: M, output_tokens: 200 * K }, expected: '4.5' }, // 2.5 + 0.2×10
  { name: 'gpt-4o cached input', provider: 'openai', model: 'gpt-4o', tokens: { input_tokens: 600 * K, cached_read_tokens: 400 * K, output_tokens: 100 * K }, expected: '3' }, // 1.5 + 0.5 + 1
  { name: 'gpt-4o batch', provider: 'openai', model: 'gpt-4o', labels: { service_tier: 'batch' }, tokens: { input_tokens: M, output_tokens: M }, expected: '6.25' }, // (2.5 + 10) / 2
  { name: 'gpt-4o batch label, cached', provider: 'openai', model: 'gpt-4o', labels: { batch: 'true' }, tokens: { input_tokens: M, cached_read_tokens: M }, expected: '1.875' }, // (2.5 + 1.25) / 2
  { name: 'o3 flex', provider: 'openai', model: 'o3', at: '2025-07-01T00:00:00Z', labels: { service_tier: 'flex' }, tokens: { input_tokens: M, output_tokens: M }, expected: '5' }, // (2 + 8) / 2
  { name: 'gpt-4o priority has no published multiplier', provider: 'openai', model: 'gpt-4o', labels: { service_tier: 'priority' }, tokens: { input_tokens: M }, expected: { unpriced: 'service_tier:priority' } },
  { name: 'gpt-4o-mini plain', provider: 'openai', model: 'gpt-4o-mini', tokens: { input_tokens: 2 * M, output_tokens: 500 * K }, expected: '0.6' }, // 0.30 + 0.30
  { name: 'gpt-4o-mini cached', provider: 'openai', model: 'gpt-4o-mini', tokens: { input_tokens: M, cached_read_tokens: M, output_tokens: 0 }, expected: '0.225' }, // 0.15 + 0.075
  { name: 'gpt-4.1 cached', provider: 'openai', model: 'gpt-4.1', tokens: { input_tokens: 500 * K, cached_read_tokens: 500 * K, output_tokens: 250 * K }, expected: '3.25' }, // 1 + 0.25 + 2
  { name: 'gpt-5 reasoning is inside output', provider: 'openai', model: 'gpt-5', tokens: { input_tokens: 100 * K, output_tokens: M, reasoning_tokens: 800 * K }, expected: '10.125' }, // 0.125 + 10
  { name: 'gpt-5 dated snapshot id', provider: 'openai', model: 'gpt-5-2025-08-07', tokens: { input_tokens: M }, expected: '1.25' },
  { name: 'gpt-4o cache writes have no OpenAI rate', provider: 'openai', model: 'gpt-4o', tokens: { input_tokens: 10, cached_write_tokens: 100 }, expected: { unpriced: 'missing_rate:cacheWrite' } },
  { name: 'o3 before the 2025-06-10 cut', provider: 'openai', model: 'o3', at: '2025-06-09T00:00:00Z', tokens: { input_tokens: M, output_tokens: 100 * K }, expected: '14' }, // 10 + 4
  { name: 'o3 after the cut', provider: 'openai', model: 'o3', at: '2025-06-10T00:00:00Z', tokens: { input_tokens: M, output_tokens: 100 * K }, expected: '2.8' }, // 2 + 0.8
  { name: 'unknown OpenAI model', provider: 'openai', model: 'gpt-9-ultra-imaginary', tokens: { input_tokens: M }, expected: { unpriced: 'no_price' } },

  // Anthropic
  { name: 'sonnet 4.5 plain', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 100 * K, output_tokens: 10 * K }, expected: '0.45' }, // 0.3 + 0.15
  { name: 'sonnet 4.5 cache read', provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', tokens: { input_tokens: 50 * K, cached_read_tokens: 100 * K, output_tokens: 10 * K }, expected: '0.33' }, // 0.15 + 0.03 + 0.15
  { name: 'sonnet 4.5 5-minute write', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 10 * K, cached_write_tokens: 100 * K, output_tokens: K }, expected: '0.42' }, // 0.03 + 0.375 + 0.015
  { name: 'sonnet 4.5 1-hour write', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 10 * K, cached_write_tokens: 100 * K, cached_write_1h_tokens: 100 * K }, expected: '0.63' }, // 0.03 + 0.6
  { name: 'sonnet 4.5 mixed 5m and 1h writes', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { cached_write_tokens: 150 * K, cached_write_1h_tokens: 50 * K }, expected: '0.675' }, // 0.375 + 0.3
  { name: 'sonnet 4.5 long context, one request', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 250 * K, output_tokens: 10 * K, requests: 1 }, expected: '1.725' }, // 1.5 + 0.225
  { name: 'sonnet 4.5 long context counts cache reads', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 50 * K, cached_read_tokens: 200 * K, output_tokens: K, requests: 1 }, expected: '0.4425' }, // 0.3 + 0.12 + 0.0225
  { name: 'sonnet 4.5 exactly 200k stays at base', provider: 'anthropic', model: 'claude-sonnet-4-5', tokens: { input_tokens: 200 * K, requests: 1 }, expected: '0.6' },
  { name: 'sonnet 4.5 grouped by context_window 200k-1M', provider: 'anthropic', model: 'claude-sonnet-4-5', labels: { context_window: '200k-1M' }, tokens: { input_tokens: M, output_tokens: 100 * K, requests: 5 }, expected: '8.25' }, // 6 + 2.25
  { name: 'sonnet 4.5 batch', provider: 'anthropic', model: 'claude-sonnet-4-5', labels: { service_tier: 'batch' }, tokens: { input_tokens: 100 * K, output_tokens: 100 * K }, expected: '0.9' }, // (0.3 + 1.5) / 2
  { name: 'opus 4.1 plain', provider: 'anthropic', model: 'claude-opus-4-1', tokens: { input_tokens: 100 * K, output_tokens: 100 * K }, expected: '9' }, // 1.5 + 7.5
  { name: 'opus 4.1 1-hour write', provider: 'anthropic', model: 'claude-opus-4-1-20250805', tokens: { cached_write_tokens: 100 * K, cached_write_1h_tokens: 100 * K }, expected: '3' },
  { name: 'opus 4.1 cache read', provider: 'anthropic', model: 'claude-opus-4-1', tokens: { cached_read_tokens: M }, expected: '1.5' },
  { name: 'haiku 4.5 plain', provider: 'anthropic', model: 'claude-haiku-4-5', tokens: { input_tokens: M, output_tokens: M }, expected: '6' },
  { name: 'haiku 4.5 5-minute write, dated id', provider: 'anthropic', model: 'claude-haiku-4-5-20251001', tokens: { cached_write_tokens: M }, expected: '1.25' },
  { name: 'anthropic priority tier is a contract price', provider: 'anthropic', model: 'claude-haiku-4-5', labels: { service_tier: 'priority' }, tokens: { input_tokens: M }, expected: { unpriced: 'service_tier:priority' } },
  { name: 'unknown Anthropic model', provider: 'anthropic', model: 'claude-imaginary-9', tokens: { input_tokens: M }, expected: { unpriced: 'no_price' } },

  // Google
  { name: 'gemini 2.5 pro under 200k', provider: 'google', model: 'gemini-2.5-pro', tokens: { input_tokens: 100 * K, output_tokens: 10 * K }, expected: '0.225' }, // 0.125 + 0.1
  { name: 'gemini 2.5 pro over 200k, one request', provider: 'google', model: 'gemini-2.5-pro', tokens: { input_tokens: 300 * K, output_tokens: 10 * K, requests: 1 }, expected: '0.9' }, // 0.75 + 0.15
  { name: 'gemini 2.5 pro cached, over 200k', provider: 'google', model: 'gemini-2.5-pro', tokens: { input_tokens: 100 * K, cached_read_tokens: 150 * K, output_tokens: 0, requests: 1 }, expected: '0.2875' }, // 0.25 + 0.0375
  { name: 'gemini 2.5 pro batch', provider: 'google', model: 'gemini-2.5-pro', labels: { batch: 'true' }, tokens: { input_tokens: 100 * K, output_tokens: 100 * K }, expected: '0.5625' }, // (0.125 + 1) / 2
  { name: 'gemini 2.5 flash with models/ prefix', provider: 'google', model: 'models/gemini-2.5-flash', tokens: { input_tokens: M, output_tokens: M }, expected: '2.8' },
  { name: 'gemini 2.5 flash cached', provider: 'gemini', model: 'gemini-2.5-flash', tokens: { input_tokens: M, cached_read_tokens: M }, expected: '0.33' },
  { name: 'gemini 2.0 flash', provider: 'google', model: 'gemini-2.0-flash', tokens: { input_tokens: M, output_tokens: M }, expected: '0.5' },
  { name: 'gemini 1.5 pro over 128k, one request', provider: 'google', model: 'gemini-1.5-pro', tokens: { input_tokens: 200 * K, output_tokens: 10 * K, requests: 1 }, expected: '0.6' }, // 0.5 + 0.1
  { name: 'unknown Google model', provider: 'google', model: 'palm-imaginary', tokens: { input_tokens: M }, expected: { unpriced: 'no_price' } },

  // DeepSeek (open weights)
  { name: 'deepseek-chat standard hours', provider: 'deepseek', model: 'deepseek-chat', granularity: 'hour', at: '2025-08-01T10:00:00Z', tokens: { input_tokens: M, cached_read_tokens: M, output_tokens: M }, expected: '1.44' }, // 0.27 + 0.07 + 1.10
  { name: 'deepseek-chat off-peak', provider: 'deepseek', model: 'deepseek-chat', granularity: 'hour', at: '2025-08-01T20:00:00Z', tokens: { input_tokens: M, cached_read_tokens: M, output_tokens: M }, expected: '0.72' }, // half
  { name: 'deepseek-chat hour straddling 00:30', provider: 'deepseek', model: 'deepseek-chat', granularity: 'hour', at: '2025-08-01T00:00:00Z', tokens: { input_tokens: M }, expected: { unpriced: 'time_of_day:bucket spans several time-of-day prices' } },
  { name: 'deepseek-chat day bucket', provider: 'deepseek', model: 'deepseek-chat', granularity: 'day', at: '2025-08-01T00:00:00Z', tokens: { input_tokens: M }, expected: { unpriced: 'time_of_day:bucket spans several time-of-day prices' } },
  { name: 'deepseek-reasoner standard hours', provider: 'deepseek', model: 'deepseek-reasoner', granularity: 'hour', at: '2025-08-01T12:00:00Z', tokens: { input_tokens: M, output_tokens: M }, expected: '2.74' }, // 0.55 + 2.19
  { name: 'unknown DeepSeek model', provider: 'deepseek', model: 'deepseek-imaginary', tokens: { input_tokens: M }, expected: { unpriced: 'no_price' } },
  { name: 'no tokens at all', provider: 'openai', model: 'gpt-4o', tokens: { requests: 3 }, expected: { unpriced: 'no_tokens' } },
];

let registry: PriceRegistry;
beforeAll(async () => {
  registry = await loadPriceRegistry();
});

describe('priceUsage against published prices', () => {
  it('has at least 40 cases across OpenAI, Anthropic, Google and an open-weights provider', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.provider))).toEqual(new Set(['openai', 'anthropic', 'google', 'gemini', 'deepseek']));
  });

  it.each(CASES)('$name', (testCase) => {
    const result = priceUsage(registry, {
      provider: testCase.provider,
      model: testCase.model,
      bucket_start: new Date(testCase.at ?? '2025-10-01T00:00:00Z'),
      granularity: testCase.granularity ?? 'day',
      labels: testCase.labels,
      input_tokens: testCase.tokens.input_tokens ?? null,
      output_tokens: testCase.tokens.output_tokens ?? null,
      cached_read_tokens: testCase.tokens.cached_read_tokens ?? null,
      cached_write_tokens: testCase.tokens.cached_write_tokens ?? null,
      cached_write_1h_tokens: testCase.tokens.cached_write_1h_tokens ?? null,
      requests: testCase.tokens.requests ?? null,
    });
    if (typeof testCase.expected === 'string') {
      expect(result).toMatchObject({ status: 'priced', costUsd: testCase.expected });
    } else {
      expect(result).toMatchObject({ status: 'unpriced', unpricedReason: testCase.expected.unpriced });
      expect(result).not.toHaveProperty('costUsd');
    }
  });
});
