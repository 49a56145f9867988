import path from 'node:path';
import { type PriceRegistry, preparePriceRegistry } from '@utt/pricing';
import type { Runtime } from '../runtime';

export type WorkerPriceRegistry = PriceRegistry & { readonly fileFetchedAt?: string; readonly file: string };

const loaders = new WeakMap<Runtime, Promise<() => Promise<WorkerPriceRegistry>>>();

/**
 * The registry for this run: config overrides → `pricing.file` → the bundled
 * genai-prices data. Read from disk only; the worker never fetches prices
 * while collecting (only `utt prices update` does).
 */
export async function workerPriceRegistry(runtime: Runtime): Promise<WorkerPriceRegistry> {
  return (await workerPriceLoader(runtime))();
}

/**
 * The same registry in two steps, for a cycle that may price nothing: the
 * prices file and the overrides are read and checked when this resolves (a
 * bad file stops the cycle before anything is collected, as before); the
 * bundled data is loaded, once per process, the first time the returned
 * function is called.
 */
export function workerPriceLoader(runtime: Runtime): Promise<() => Promise<WorkerPriceRegistry>> {
  let loader = loaders.get(runtime);
  if (!loader) {
    const { pricing } = runtime.loaded.config;
    const file = path.resolve(runtime.loaded.directory, pricing.file);
    loader = preparePriceRegistry({ overrides: pricing.overrides, file }).then((load) => {
      let registry: Promise<WorkerPriceRegistry> | undefined;
      return () => {
        registry ??= load().then((value) => ({ ...value, file }));
        return registry;
      };
    });
    loaders.set(runtime, loader);
  }
  return loader;
}
