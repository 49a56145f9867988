import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENAI_PRICES_VERSION, loadBundledRegistry } from './bundled-registry';
import { createPriceRegistry } from './price-registry';
import { type PriceInput, priceUsage } from './price-usage';
import { parseRegistryData } from './registry-data';

// loadBundledRegistry trusts the bundled data without a schema check at run time; these tests are that check.
describe('the bundled genai-prices data', () => {
  it('is the pinned release', () => {
    // The package exports no package.json: find it above its entry point.
    let folder = path.dirname(createRequire(import.meta.url).resolve('@pydantic/genai-prices'));
    while (!existsSync(path.join(folder, 'package.json'))) folder = path.dirname(folder);
    const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name: string; version: string };
    expect(manifest).toMatchObject({ name: '@pydantic/genai-prices', version: GENAI_PRICES_VERSION });
  });

  it('passes the registry data schema', async () => {
    const bundled = await loadBundledRegistry();
    expect(() => parseRegistryData(bundled.providers, 'bundled genai-prices data')).not.toThrow();
  });

  it('prices every model exactly as the schema-checked copy of the same data does', async () => {
    const raw = await loadBundledRegistry();
    const checked = { label: raw.label, providers: parseRegistryData(raw.providers, 'bundled genai-prices data') };
    const fromRaw = createPriceRegistry({ bundled: raw });
    const fromChecked = createPriceRegistry({ bundled: checked });
    let models = 0;
    for (const provider of checked.providers) {
      for (const model of provider.models) {
        for (const at of ['2024-06-01T00:00:00Z', '2026-06-01T00:00:00Z']) {
          const usage: PriceInput = {
            provider: provider.id,
            model: model.id,
            bucket_start: new Date(at),
            input_tokens: 1_234_567,
            output_tokens: 345_678,
            cached_read_tokens: 2_000_000,
            cached_write_tokens: 45_000,
            cached_write_1h_tokens: 5_000,
            requests: 3,
          };
          expect(priceUsage(fromRaw, usage), `${provider.id}/${model.id} at ${at}`).toEqual(priceUsage(fromChecked, usage));
        }
        models += 1;
      }
    }
    expect(models).toBeGreaterThan(100);
  });
});
