import { loadBundledRegistry } from './bundled-registry';
import type { PriceOverrides } from './price-override';
import { createPriceRegistry, type PriceRegistry } from './price-registry';
import { readPricesFile } from './prices-file';

export type LoadPriceRegistryOptions = {
  readonly overrides?: PriceOverrides;
  /** `pricing.file`: read when it exists; a missing file falls back to the bundled registry. */
  readonly file?: string;
  /** Leave the bundled genai-prices data out (tests of overrides alone). */
  readonly bundled?: boolean;
};

/** Config overrides → the local prices file → the bundled registry, loaded once per process. */
export async function loadPriceRegistry(options: LoadPriceRegistryOptions = {}): Promise<PriceRegistry & { readonly fileFetchedAt?: string }> {
  let file: Awaited<ReturnType<typeof readPricesFile>> | undefined;
  if (options.file !== undefined) {
    try {
      file = await readPricesFile(options.file);
    } catch (error) {
      // No file yet is the normal state before the first `utt prices update`.
      if (!/ENOENT/.test((error as Error).message)) throw error;
    }
  }
  const bundled = options.bundled === false ? undefined : await loadBundledRegistry();
  const registry = createPriceRegistry({ overrides: options.overrides, file: file?.dataSet, bundled });
  return file?.fetchedAt ? { ...registry, fileFetchedAt: file.fetchedAt } : registry;
}
