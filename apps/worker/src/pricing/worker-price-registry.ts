import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedPriceRegistry, PriceOverrides, PriceRegistry } from '@utt/pricing';
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
    loader = prepare(pricing.overrides, file).then((load) => {
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

/**
 * @utt/pricing's preparePriceRegistry, with the package (its registry, the
 * prices file's reader and their schemas) loaded only when there is something
 * to check now: overrides in the config, or a prices file. Without either
 * nothing can fail before a price is needed, and a cycle that prices nothing
 * (`utt run` finding nothing new) does not load it at all.
 */
async function prepare(overrides: PriceOverrides, file: string): Promise<() => Promise<LoadedPriceRegistry>> {
  if (Object.keys(overrides).length === 0 && (await isAbsent(file))) {
    let later: Promise<() => Promise<LoadedPriceRegistry>> | undefined;
    return async () => {
      later ??= import('@utt/pricing').then(({ preparePriceRegistry }) => preparePriceRegistry({ overrides, file }));
      return (await later)();
    };
  }
  const { preparePriceRegistry } = await import('@utt/pricing');
  return preparePriceRegistry({ overrides, file });
}

/** No file at `file` (any other answer, an unreadable file included, is for preparePriceRegistry to report). */
function isAbsent(file: string): Promise<boolean> {
  return stat(file).then(
    () => false,
    (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT',
  );
}
