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

export type LoadedPriceRegistry = PriceRegistry & { readonly fileFetchedAt?: string };

/** Config overrides → the local prices file → the bundled registry, loaded once per process. */
export async function loadPriceRegistry(options: LoadPriceRegistryOptions = {}): Promise<LoadedPriceRegistry> {
  return (await preparePriceRegistry(options))();
}

/**
 * `loadPriceRegistry` in two steps, for a caller that may price nothing (a
 * `utt run` that finds nothing new). Now: the prices file is read and the
 * overrides and the file are checked, so that a bad one fails here, with the
 * same error. Later, on the first call of the returned function: the bundled
 * genai-prices data (its module alone takes 20–30 ms to load) and the
 * registry, built once.
 */
export async function preparePriceRegistry(options: LoadPriceRegistryOptions = {}): Promise<() => Promise<LoadedPriceRegistry>> {
  let file: Awaited<ReturnType<typeof readPricesFile>> | undefined;
  if (options.file !== undefined) {
    try {
      file = await readPricesFile(options.file);
    } catch (error) {
      // No file yet is the normal state before the first `utt prices update`.
      if (!/ENOENT/.test((error as Error).message)) throw error;
    }
  }
  // The overrides and the file's rates are converted when a registry is built: build one without the bundled data to check them.
  if (options.bundled === false) {
    const registry = withFetchedAt(createPriceRegistry({ overrides: options.overrides, file: file?.dataSet }), file?.fetchedAt);
    return () => Promise.resolve(registry);
  }
  createPriceRegistry({ overrides: options.overrides, file: file?.dataSet });
  let registry: Promise<LoadedPriceRegistry> | undefined;
  return () => {
    registry ??= loadBundledRegistry().then((bundled) =>
      withFetchedAt(createPriceRegistry({ overrides: options.overrides, file: file?.dataSet, bundled }), file?.fetchedAt),
    );
    return registry;
  };
}

function withFetchedAt(registry: PriceRegistry, fetchedAt: string | undefined): LoadedPriceRegistry {
  return fetchedAt ? { ...registry, fileFetchedAt: fetchedAt } : registry;
}
