import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPriceRegistry, preparePriceRegistry } from './load-price-registry';
import { priceUsage } from './price-usage';
import { readPricesFile, updatePricesFile } from './prices-file';

const DATA = [
  { id: 'anthropic', name: 'Anthropic', models: [{ id: 'claude-sonnet-4-5', match: { starts_with: 'claude-sonnet-4-5' }, prices: { input_mtok: 2, output_mtok: 10 } }] },
];

let directory: string;
let server: Server | undefined;
const requests: string[] = [];

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'utt-pricing-'));
  requests.length = 0;
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await rm(directory, { recursive: true, force: true });
});

async function serve(status: number, body: string): Promise<string> {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/prices/data.json`;
}

describe('updatePricesFile', () => {
  it('fetches registry data from the configured URL into the local file, which then takes precedence', async () => {
    const url = await serve(200, JSON.stringify(DATA));
    const file = path.join(directory, 'nested', 'prices.json');
    const written = await updatePricesFile(file, { url: `${url}?token=secret-value`, now: new Date('2026-11-01T12:00:00Z') });
    expect(requests).toEqual(['GET /prices/data.json?token=secret-value']);
    expect(written.providers).toHaveLength(1);
    const stored = await readFile(file, 'utf8');
    expect(stored).not.toContain('secret-value');
    expect(JSON.parse(stored)).toMatchObject({ source: url, fetchedAt: '2026-11-01T12:00:00.000Z' });

    const registry = await loadPriceRegistry({ file });
    const result = priceUsage(registry, {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      bucket_start: new Date('2026-11-02T00:00:00Z'),
      input_tokens: 1_000_000,
      output_tokens: null,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
    });
    expect(result).toMatchObject({ status: 'priced', costUsd: '2' });
    expect(result.status === 'priced' && result.priceRef).toMatch(/^file@2026-11-01#[0-9a-f]{8}:anthropic\/claude-sonnet-4-5@base$/);
  });

  it('keeps the existing file when the response is not registry data', async () => {
    const file = path.join(directory, 'prices.json');
    await writeFile(file, JSON.stringify(DATA));
    const url = await serve(200, JSON.stringify({ hello: 'world' }));
    await expect(updatePricesFile(file, { url })).rejects.toThrow(/not genai-prices provider data/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(DATA);
  });

  it('fails on an HTTP error without writing', async () => {
    const file = path.join(directory, 'prices.json');
    const url = await serve(404, '{}');
    await expect(updatePricesFile(file, { url, retryBudgetMs: 100 })).rejects.toThrow(/404/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('readPricesFile', () => {
  it('reads a bare data.json array and names the file in errors', async () => {
    const file = path.join(directory, 'bare.json');
    await writeFile(file, JSON.stringify(DATA));
    expect((await readPricesFile(file)).dataSet.label).toMatch(/^file@local#[0-9a-f]{8}$/);
    await writeFile(file, '{"providers": [{"id": "x", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {"input_mtok": -1}}]}]}');
    await expect(readPricesFile(file)).rejects.toThrow(`pricing.file ${file}: not genai-prices provider data: [0].models[0].prices.input_mtok`);
  });

  it('falls back to the bundled registry while the file does not exist yet', async () => {
    const registry = await loadPriceRegistry({ file: path.join(directory, 'missing.json') });
    expect(registry.sources.map((source) => source.label)).toEqual(['config', 'genai-prices@0.1.8']);
  });
});

describe('preparePriceRegistry', () => {
  it('fails at once, as loadPriceRegistry does, on a prices file that is not valid', async () => {
    const file = path.join(directory, 'bad.json');
    await writeFile(file, '{"providers": [{"id": "x", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {"input_mtok": -1}}]}]}');
    await expect(preparePriceRegistry({ file })).rejects.toThrow(`pricing.file ${file}: not genai-prices provider data: [0].models[0].prices.input_mtok`);
  });

  it('builds, when first asked, the registry loadPriceRegistry builds: file, then bundled data', async () => {
    const file = path.join(directory, 'prices.json');
    await writeFile(file, JSON.stringify(DATA));
    const load = await preparePriceRegistry({ file, overrides: { 'acme/m': { input: 1 } } });
    const registry = await load();
    expect(await load()).toBe(registry);
    const loaded = await loadPriceRegistry({ file, overrides: { 'acme/m': { input: 1 } } });
    expect(registry.sources).toEqual(loaded.sources);
    const usage = { bucket_start: new Date('2026-10-01T00:00:00Z'), input_tokens: 1_000_000, output_tokens: 1_000_000, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null };
    for (const [provider, model] of [['anthropic', 'claude-sonnet-4-5'], ['openai', 'gpt-4o'], ['acme', 'm']] as const) {
      expect(priceUsage(registry, { ...usage, provider, model })).toEqual(priceUsage(loaded, { ...usage, provider, model }));
    }
    expect(priceUsage(registry, { ...usage, provider: 'anthropic', model: 'claude-sonnet-4-5' })).toMatchObject({ status: 'priced', costUsd: '12' });
  });
});
