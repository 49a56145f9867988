import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Runtime } from '../runtime';

const prepared = vi.hoisted(() => ({ calls: [] as unknown[] }));
vi.mock('@utt/pricing', async (importOriginal) => {
  const original = await importOriginal<typeof import('@utt/pricing')>();
  return {
    ...original,
    preparePriceRegistry: (options: Parameters<typeof original.preparePriceRegistry>[0]) => {
      prepared.calls.push(options);
      return original.preparePriceRegistry(options);
    },
  };
});

const { workerPriceLoader } = await import('./worker-price-registry');

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'utt-worker-prices-'));
  prepared.calls.length = 0;
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const runtimeWith = (pricing: { file: string; overrides: Record<string, unknown> }) =>
  ({ loaded: { config: { pricing }, directory } }) as unknown as Runtime;

describe('workerPriceLoader', () => {
  it('without overrides or a prices file, prepares nothing until a price is needed, then the bundled registry', async () => {
    const load = await workerPriceLoader(runtimeWith({ file: 'prices.json', overrides: {} }));
    expect(prepared.calls).toEqual([]);
    const registry = await load();
    expect(prepared.calls).toEqual([{ overrides: {}, file: path.join(directory, 'prices.json') }]);
    expect(registry.file).toBe(path.join(directory, 'prices.json'));
    expect(registry.resolve('anthropic', 'claude-sonnet-4-5')?.entry.source).toBe('registry');
    await load();
    expect(prepared.calls).toHaveLength(1);
  });

  it('checks overrides before anything is collected', async () => {
    await expect(workerPriceLoader(runtimeWith({ file: 'prices.json', overrides: { 'my-model': { input: 'lots' } } }))).rejects.toThrow(/my-model/);
  });

  it('checks a prices file before anything is collected', async () => {
    await writeFile(path.join(directory, 'prices.json'), '{ not json');
    await expect(workerPriceLoader(runtimeWith({ file: 'prices.json', overrides: {} }))).rejects.toThrow(/pricing\.file .*prices\.json: not JSON/);
    expect(prepared.calls).toHaveLength(1);
  });
});
