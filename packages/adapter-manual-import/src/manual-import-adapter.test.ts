import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectAll, createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import { isUsageAdapterV1, type UsageAdapterV1Window } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import defaultExport, { ImportFileError, INVALID_ROW_LIMIT, manualImportAdapter, manualImportConfigSchema } from './index';

const fixture = (name: string): string => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

// Ignored: the adapter is not windowed and returns what its files hold.
const WINDOW: UsageAdapterV1Window = {
  start: new Date('2026-10-01T00:00:00Z'),
  end: new Date('2026-10-02T00:00:00Z'),
  granularity: 'day',
};

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-manual-import-adapter-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function contextFor(config: unknown) {
  return createTestContext({ config: manualImportConfigSchema.parse(config), sourceName: 'finance-export' });
}

describeUsageAdapterConformance({
  adapter: manualImportAdapter,
  config: { files: [fixture('per-request.csv'), fixture('hourly.csv'), fixture('monthly.csv')] },
  window: WINDOW,
  // The file format's input_tokens already excludes cache tokens: rows of one hour are summed.
  expected: {
    response: '__fixtures__/hourly.csv (13:05 and 13:59:59 fall in the 13:00 hour)',
    records: [{ bucket_start: '2026-10-01T13:00:00Z', granularity: 'hour', model: 'llama-3-70b', input_tokens: 300, output_tokens: 30, requests: 3 }],
  },
});

describe('manualImportAdapter', () => {
  it('is the default export and a v1 adapter with the declared capabilities', () => {
    expect(defaultExport).toBe(manualImportAdapter);
    expect(isUsageAdapterV1(defaultExport)).toBe(true);
    expect(manualImportAdapter).toMatchObject({
      specificationVersion: 'v1',
      id: 'manual-import',
      sourceSystem: 'manual',
      capabilities: {
        granularities: ['day', 'hour', 'month'],
        cacheTokens: 'read_write',
        costSource: 'provider',
        measurementBasis: 'derived_estimate',
        maxBackfillDays: null,
        windowed: false,
      },
    });
  });

  it('has a strict config: at least one file, skipInvalid false by default', () => {
    expect(manualImportConfigSchema.parse({ files: ['a.csv'] })).toEqual({ files: ['a.csv'], skipInvalid: false });
    expect(manualImportConfigSchema.safeParse({ files: [] }).success).toBe(false);
    expect(manualImportConfigSchema.safeParse({ files: ['a.csv'], skip_invalid: true }).success).toBe(false);
    expect(manualImportConfigSchema.safeParse({ files: ['a.csv'], instance: '' }).success).toBe(false);
  });

  it('collects every configured file, whatever the window', async () => {
    const context = contextFor({ files: [fixture('per-request.csv'), fixture('monthly.csv')] });
    const records = await collectAll(manualImportAdapter, WINDOW, context);
    expect(records).toHaveLength(5 + 2);
    expect(new Set(records.map((record) => record.source_instance))).toEqual(new Set(['per-request.csv', 'monthly.csv']));
    expect(context.logs.filter((line) => line.level === 'info')).toHaveLength(2);
  });

  it('stamps every record with the configured instance', async () => {
    const context = contextFor({ files: [fixture('per-request.csv')], instance: 'october-export' });
    const records = await collectAll(manualImportAdapter, WINDOW, context);
    expect(new Set(records.map((record) => record.source_instance))).toEqual(new Set(['october-export']));
  });

  it('fails on a bad row unless skipInvalid, then logs each skipped row with file and line', async () => {
    const file = fixture('many-bad-rows.csv');
    await expect(collectAll(manualImportAdapter, WINDOW, contextFor({ files: [file] }))).rejects.toThrow(
      `${file}:3: input_tokens: must not be negative`,
    );

    const context = contextFor({ files: [file], skipInvalid: true });
    const records = await collectAll(manualImportAdapter, WINDOW, context);
    expect(records).toHaveLength(1);
    const skipped = context.logs.filter((line) => line.level === 'warn');
    expect(skipped).toHaveLength(11);
    expect(skipped[0]).toMatchObject({ message: 'skipped an invalid row', fields: { file, line: 3, field: 'input_tokens' } });
  });

  it('logs the first INVALID_ROW_LIMIT skipped rows one by one and the rest as one count', async () => {
    const file = join(directory, 'mostly-bad.csv');
    const bad = Array.from({ length: INVALID_ROW_LIMIT + 5 }, () => '2026-10-01T00:00:00Z,openai,gpt-5,-1');
    await writeFile(file, ['bucket_start,provider,model,input_tokens', '2026-10-01T00:00:00Z,openai,gpt-5,7', ...bad].join('\n'));
    const context = contextFor({ files: [file], skipInvalid: true });
    const records = await collectAll(manualImportAdapter, WINDOW, context);
    expect(records).toEqual([expect.objectContaining({ input_tokens: 7 })]);
    const warnings = context.logs.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(INVALID_ROW_LIMIT + 1);
    expect(warnings.at(-2)).toMatchObject({ message: 'skipped an invalid row', fields: { file, line: INVALID_ROW_LIMIT + 2 } });
    expect(warnings.at(-1)).toMatchObject({ message: 'skipped 5 more invalid rows', fields: { file } });
    expect(context.logs.find((line) => line.message === 'imported usage file')).toMatchObject({ fields: { rowsSkipped: INVALID_ROW_LIMIT + 5 } });
  });

  it('refuses two files that hold the same cell under one source_instance', async () => {
    const copy = join(directory, 'copy', 'per-request.csv');
    await mkdir(join(directory, 'copy'), { recursive: true });
    await copyFile(fixture('per-request.csv'), copy);
    // Same base name, so the same default instance: importing both would count the rows twice.
    const error = await collectAll(manualImportAdapter, WINDOW, contextFor({ files: [fixture('per-request.csv'), copy] })).catch(
      (caught: unknown) => caught,
    );
    expect(ImportFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`${copy}: holds the same day cell`);

    // Files with different cells may share an instance.
    const other = join(directory, 'november.csv');
    await writeFile(other, 'bucket_start,provider,model,requests\n2026-11-01,openai,gpt-4.1,1\n');
    const records = await collectAll(
      manualImportAdapter,
      WINDOW,
      contextFor({ files: [fixture('per-request.csv'), other], instance: 'exports' }),
    );
    expect(records).toHaveLength(6);
  });

  it('check() reports a missing file', async () => {
    const ok = await manualImportAdapter.check?.(contextFor({ files: [fixture('per-request.csv')] }));
    expect(ok).toEqual({ ok: true, detail: '1 file readable' });
    const missing = join(directory, 'missing.csv');
    const result = await manualImportAdapter.check?.(contextFor({ files: [missing] }));
    expect(result).toEqual({ ok: false, reason: `${missing}: file not found` });
  });
});
