import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { workerConfigSchema } from './worker-config-schema';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function issues(config: unknown): string[] {
  const result = workerConfigSchema.safeParse(config);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('the pricing: block', () => {
  it('has defaults: the local prices file, a 30-day max age, no overrides', () => {
    expect(workerConfigSchema.parse({}).pricing).toEqual({ file: '.utt/prices.json', updateUrl: undefined, maxAge: 30 * 86_400_000, overrides: {} });
  });

  it('keeps the original per-million entries valid and merges them with pricing.overrides', () => {
    const { pricing } = workerConfigSchema.parse({
      pricing: {
        'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 },
        file: 'prices/registry.json',
        updateUrl: 'http://127.0.0.1:9999/data.json',
        maxAge: '7d',
        overrides: { 'my-model': { input: '0.5', longContext: { above: 100_000, input: 1 }, serviceTiers: { batch: 0.5 } } },
      },
    });
    expect(pricing).toEqual({
      file: 'prices/registry.json',
      updateUrl: 'http://127.0.0.1:9999/data.json',
      maxAge: 7 * 86_400_000,
      overrides: {
        'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 },
        'my-model': { input: '0.5', longContext: { above: 100_000, input: 1 }, serviceTiers: { batch: 0.5 } },
      },
    });
  });

  it('names the bad entry', () => {
    expect(issues({ pricing: { 'openai/gpt-4o': { input: -1 } } })).toEqual(['pricing.openai/gpt-4o.input: Too small: expected number to be >=0']);
    expect(issues({ pricing: { overrides: { x: { inptu: 1 } } } })[0]).toMatch(/^pricing\.overrides\.x: Unrecognized key: "inptu"/);
    expect(issues({ pricing: { x: { input: 1 }, overrides: { x: { input: 2 } } } })).toEqual(['pricing.x: also under pricing.overrides; keep one']);
    expect(issues({ pricing: { updateUrl: 'not a url' } })[0]).toMatch(/^pricing\.updateUrl: /);
  });

  it('accepts the example config', async () => {
    const example = load(await readFile(path.join(REPO_ROOT, 'examples/utt.config.yaml'), 'utf8'));
    expect(issues(example)).toEqual([]);
  });
});
