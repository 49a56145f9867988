import path from 'node:path';
import { loadPriceRegistry, type PriceRegistry } from '@utt/pricing';
import type { Runtime } from '../runtime';

export type WorkerPriceRegistry = PriceRegistry & { readonly fileFetchedAt?: string; readonly file: string };

const loaded = new WeakMap<Runtime, Promise<WorkerPriceRegistry>>();

/**
 * The registry for this run: config overrides → `pricing.file` → the bundled
 * genai-prices data. Read from disk only; the worker never fetches prices
 * while collecting (only `utt prices update` does).
 */
export function workerPriceRegistry(runtime: Runtime): Promise<WorkerPriceRegistry> {
  let registry = loaded.get(runtime);
  if (!registry) {
    const { pricing } = runtime.loaded.config;
    const file = path.resolve(runtime.loaded.directory, pricing.file);
    registry = loadPriceRegistry({ overrides: pricing.overrides, file }).then((value) => ({ ...value, file }));
    loaded.set(runtime, registry);
  }
  return registry;
}
