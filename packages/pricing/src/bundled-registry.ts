import type { RegistryDataSet } from './price-registry';
import type { RegistryProvider } from './registry-data';

/** The genai-prices release whose data is bundled (its package.json version, checked by a test). */
export const GENAI_PRICES_VERSION = '0.1.8';

let cached: Promise<RegistryDataSet> | undefined;

/**
 * The price data bundled with @pydantic/genai-prices. Its module keeps the
 * data it ships with until someone calls its updatePrices(); utt never does
 * (the worker works offline), so this is exactly the released snapshot.
 */
export function loadBundledRegistry(): Promise<RegistryDataSet> {
  // Loaded on first use: the data set is large, and most commands (help, report) never price anything.
  cached ??= import('@pydantic/genai-prices').then(({ waitForUpdate }) => waitForUpdate()).then((providers) => {
    if (!providers) throw new Error('@pydantic/genai-prices returned no bundled price data');
    // A pinned release, checked against registryDataSchema by bundled-registry.test.ts. Checking it
    // again at every start took 100–250 ms of each `utt run` (zod over some thousand models).
    return { label: `genai-prices@${GENAI_PRICES_VERSION}`, providers: providers as RegistryProvider[] };
  });
  return cached;
}
