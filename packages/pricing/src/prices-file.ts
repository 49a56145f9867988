import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHttpClient, type HttpClientOptions } from '@utt/core';
import type { RegistryDataSet } from './price-registry';
import { parseRegistryData, type RegistryProvider } from './registry-data';

/** Where `utt prices update` fetches from by default: genai-prices' published data (same shape as the bundled copy). */
export const DEFAULT_PRICES_URL = 'https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json';

/** The local prices file: genai-prices data plus where and when it was fetched. */
export type PricesFile = {
  readonly source: string;
  readonly fetchedAt: string;
  readonly providers: readonly RegistryProvider[];
};

/**
 * Reads `pricing.file`. It holds `{ source, fetchedAt, providers }` as written
 * by `utt prices update`, or a bare genai-prices data.json array.
 */
export async function readPricesFile(file: string): Promise<PricesFile & { readonly dataSet: RegistryDataSet }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`pricing.file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`pricing.file ${file}: not JSON (${(error as Error).message})`);
  }
  const wrapped = !Array.isArray(json) && typeof json === 'object' && json !== null && 'providers' in json;
  const providers = parseRegistryData(wrapped ? (json as { providers: unknown }).providers : json, `pricing.file ${file}`);
  const source = wrapped && typeof (json as { source?: unknown }).source === 'string' ? (json as { source: string }).source : file;
  const fetchedAt = wrapped && typeof (json as { fetchedAt?: unknown }).fetchedAt === 'string' ? (json as { fetchedAt: string }).fetchedAt : '';
  // The content hash tells apart two files fetched on the same day, so a price_ref names exactly one.
  // node:crypto is loaded here, not with the package: only a prices file needs it (bench/startup, issue-12r).
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(JSON.stringify(providers)).digest('hex').slice(0, 8);
  return { source, fetchedAt, providers, dataSet: { label: `file@${fetchedAt.slice(0, 10) || 'local'}#${digest}`, providers } };
}

export type FetchPricesOptions = Pick<HttpClientOptions, 'fetch' | 'deadlineMs' | 'retryBudgetMs' | 'signal' | 'logger'> & {
  readonly url?: string;
  readonly now?: Date;
};

/**
 * Fetches registry data and writes it to `file` (atomically: a half-written
 * file never replaces a good one). Only `utt prices update` calls this; the
 * worker never fetches prices while collecting.
 */
export async function updatePricesFile(file: string, options: FetchPricesOptions = {}): Promise<PricesFile> {
  const url = options.url ?? DEFAULT_PRICES_URL;
  const http = createHttpClient({ ...options, userAgent: 'utt-pricing' });
  const response = await http.requestText({ url });
  let json: unknown;
  try {
    json = JSON.parse(response.text);
  } catch (error) {
    throw new Error(`prices update from ${redactUrl(url)}: the response is not JSON (${(error as Error).message})`);
  }
  const providers = parseRegistryData(json, `prices update from ${redactUrl(url)}`);
  const written: PricesFile = { source: redactUrl(url), fetchedAt: (options.now ?? new Date()).toISOString(), providers };
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(written, null, 1)}\n`);
  await rename(temporary, file);
  return written;
}

/** A URL without its query string or credentials: either may hold a token. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
