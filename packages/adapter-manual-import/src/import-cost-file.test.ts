import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext } from '@utt/adapter-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCostFile } from './import-cost-file';
import { manualImportAdapter } from './manual-import-adapter';
import { manualImportConfigSchema } from './manual-import-config';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-cost-file-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}

const WINDOW = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-10-02T00:00:00Z'), granularity: 'day' } as const;

describe('importCostFile', () => {
  it('reads billed amounts from CSV: days as UTC days, empty cells as defaults, credits negative, amounts exact', async () => {
    const path = await file(
      'october.csv',
      'bucket_start,provider,account,model,line_item,amount_usd,currency\n' +
        '2026-10-01,openai,proj_app,gpt-5,input tokens,12.3456789012345,\n' +
        '2026-10-01,openai,proj_app,,web search,0.42,USD\n' +
        '2026-10-02T00:00:00Z,openai,,,credit,-5,\n',
    );
    const result = await importCostFile(path);
    expect(result.rowsRead).toBe(3);
    expect(result.invalidRows).toEqual([]);
    expect(result.records).toEqual([
      { source_instance: 'october.csv', bucket_start: new Date('2026-10-01T00:00:00Z'), provider: 'openai', account: 'proj_app', model: 'gpt-5', line_item: 'input tokens', amount_usd: '12.3456789012345', currency: 'USD' },
      { source_instance: 'october.csv', bucket_start: new Date('2026-10-01T00:00:00Z'), provider: 'openai', account: 'proj_app', model: '', line_item: 'web search', amount_usd: '0.42', currency: 'USD' },
      { source_instance: 'october.csv', bucket_start: new Date('2026-10-02T00:00:00Z'), provider: 'openai', account: '', model: '', line_item: 'credit', amount_usd: '-5', currency: 'USD' },
    ]);
  });

  it('reads NDJSON and JSON arrays, numbers or decimal strings', async () => {
    const ndjson = await file('costs.jsonl', '{"bucket_start":"2026-10-01","provider":"anthropic","line_item":"usage","amount_usd":1.5}\n\n{"bucket_start":"2026-10-02","provider":"anthropic","line_item":"usage","amount_usd":"2.25"}\n');
    const json = await file('costs.json', '[{"bucket_start":"2026-10-01","provider":"anthropic","line_item":"usage","amount_usd":1.5}]');
    expect((await importCostFile(ndjson, { sourceInstance: 'invoice' })).records.map((r) => [r.source_instance, r.amount_usd])).toEqual([
      ['invoice', '1.5'],
      ['invoice', '2.25'],
    ]);
    expect((await importCostFile(json)).records).toHaveLength(1);
  });

  it('refuses the file at the first bad row, naming file, line and field; skipInvalid lists it and keeps the rest', async () => {
    const path = await file(
      'bad.csv',
      'bucket_start,provider,line_item,amount_usd\n2026-10-01,openai,usage,1.00\n2026-10-01T13:00:00Z,openai,usage,2\n2026-10-03,openai,usage,$3\n2026-10-04,,usage,4\n2026-10-01,openai,usage,5\n',
    );
    await expect(importCostFile(path)).rejects.toThrow(`${path}:3: bucket_start: must be the start of a UTC day`);
    const result = await importCostFile(path, { skipInvalid: true });
    expect(result.records.map((r) => r.amount_usd)).toEqual(['1.00']);
    expect(result.invalidRows).toEqual([
      { line: 3, field: 'bucket_start', message: 'must be the start of a UTC day' },
      { line: 4, field: 'amount_usd', message: 'expected a decimal number' },
      { line: 5, field: 'provider', message: 'required' },
      { line: 6, field: 'line_item', message: 'the same day, provider, account, model and line item as line 2; sum them into one row (each is stored once)' },
    ]);
  });

  it('refuses unknown and missing columns whatever skipInvalid says', async () => {
    const typo = await file('typo.csv', 'bucket_start,provider,line_item,amount\n2026-10-01,openai,usage,1\n');
    await expect(importCostFile(typo, { skipInvalid: true })).rejects.toThrow(`${typo}:1: amount: unknown column; a cost file's columns are bucket_start, provider, account, model, line_item, amount_usd, currency`);
    const missing = await file('missing.csv', 'bucket_start,provider,amount_usd\n2026-10-01,openai,1\n');
    await expect(importCostFile(missing)).rejects.toThrow(`${missing}:1: line_item: required column is missing from the header`);
    const ndjson = await file('extra.ndjson', '{"bucket_start":"2026-10-01","provider":"openai","line_item":"usage","amount_usd":1,"note":"x"}\n');
    await expect(importCostFile(ndjson, { skipInvalid: true })).rejects.toThrow(`${ndjson}:1: note: unknown column`);
    await expect(importCostFile(join(directory, 'absent.csv'))).rejects.toThrow(`${join(directory, 'absent.csv')}: file not found`);
  });
});

describe('manualImportAdapter costFiles', () => {
  it('returns every billed row from collectProviderCosts, and check() looks at the cost files too', async () => {
    const path = await file('invoice.csv', 'bucket_start,provider,line_item,amount_usd\n2026-10-01,openai,usage,1.25\n2026-11-20,openai,usage,2\n');
    const context = createTestContext({ config: manualImportConfigSchema.parse({ costFiles: [path], instance: 'finance' }), sourceName: 'finance-export' });
    expect(await manualImportAdapter.check?.(context)).toEqual({ ok: true, detail: '1 file readable' });
    // Not windowed: a file's rows come back whatever the window, and the store upserts them by key.
    const records = await manualImportAdapter.collectProviderCosts?.(WINDOW, context);
    expect(records?.map((r) => [r.source_instance, r.amount_usd])).toEqual([
      ['finance', '1.25'],
      ['finance', '2'],
    ]);
    expect(await manualImportAdapter.collect(WINDOW, context)).toEqual([]);

    const absent = createTestContext({ config: manualImportConfigSchema.parse({ costFiles: [join(directory, 'nope.csv')] }), sourceName: 'finance-export' });
    expect(await manualImportAdapter.check?.(absent)).toEqual({ ok: false, reason: `${join(directory, 'nope.csv')}: file not found` });
  });
});
