import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { UsageRecord } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsageFile, INVALID_ROW_LIMIT, readImportEvents } from './import-usage-file';

const MODELS = ['m0', 'm1', 'm2', 'm3'];

/**
 * Row i belongs to cell k = i % 120: day (k % 30) + 1 of October 2026 and
 * model MODELS[floor(k / 30)], at some hour of that day. Every row has 3 input
 * and 2 output tokens, one request and a cost of $0.000001.
 */
function rowOf(index: number): { day: number; model: string; timestamp: string } {
  const cell = index % 120;
  const day = (cell % 30) + 1;
  const model = MODELS[Math.floor(cell / 30)] ?? 'm?';
  const hour = String(index % 24).padStart(2, '0');
  const minute = String(index % 60).padStart(2, '0');
  return { day, model, timestamp: `2026-10-${String(day).padStart(2, '0')}T${hour}:${minute}:00Z` };
}

async function writeLines(
  path: string,
  rows: number,
  header: string | undefined,
  line: (index: number) => string,
  footer?: string,
): Promise<void> {
  const out = createWriteStream(path);
  if (header !== undefined) out.write(header);
  let batch: string[] = [];
  for (let index = 0; index < rows; index++) {
    batch.push(line(index));
    if (batch.length === 10_000) {
      if (!out.write(batch.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = [];
    }
  }
  out.write(batch.join(''));
  if (footer !== undefined) out.write(footer);
  out.end();
  await finished(out);
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-manual-import-large-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('importUsageFile: a large per-request export', () => {
  it('streams 200 000 CSV rows into 120 day cells', async () => {
    const path = join(directory, 'large.csv');
    await writeLines(path, 200_000, 'bucket_start,provider,model,input_tokens,output_tokens,cached_read_tokens,requests,cost_usd\n', (index) => {
      const row = rowOf(index);
      return `${row.timestamp},openai,${row.model},3,2,,1,0.000001\n`;
    });
    const result = await importUsageFile(path);
    expect(result.rowsRead).toBe(200_000);
    expect(result.rowsImported).toBe(200_000);
    expect(result.records).toHaveLength(120);
    // 200 000 = 120 × 1666 + 80: cells 0…79 get 1667 rows, cells 80…119 get 1666.
    expect(result.records[0]).toMatchObject({
      bucket_start: new Date('2026-10-01T00:00:00Z'),
      model: 'm0',
      input_tokens: 5001, // 1667 × 3
      output_tokens: 3334, // 1667 × 2
      cached_read_tokens: null,
      requests: 1667,
      cost_usd: '0.001667',
      cost_source: 'provider',
    });
    expect(findCell(result.records, 30, 'm3')).toMatchObject({ input_tokens: 4998, requests: 1666, cost_usd: '0.001666' });
    expect(result.records.reduce((total, record) => total + (record.input_tokens ?? 0), 0)).toBe(600_000);
  }, 30_000);

  it('streams 100 000 JSON array elements into the same cells', async () => {
    const path = join(directory, 'large.json');
    await writeLines(
      path,
      100_000,
      '[\n',
      (index) => {
        const row = rowOf(index);
        const element = JSON.stringify({
          bucket_start: row.timestamp,
          provider: 'openai',
          model: row.model,
          input_tokens: 3,
          output_tokens: 2,
          requests: 1,
          cost_usd: '0.000001',
        });
        return index === 0 ? element : `,\n${element}`;
      },
      '\n]\n',
    );
    const result = await importUsageFile(path);
    expect(result.rowsRead).toBe(100_000);
    expect(result.records).toHaveLength(120);
    // 100 000 = 120 × 833 + 40: cells 0…39 get 834 rows, cells 40…119 get 833.
    expect(result.records[0]).toMatchObject({ input_tokens: 2502, output_tokens: 1668, requests: 834, cost_usd: '0.000834' });
    expect(findCell(result.records, 30, 'm3')).toMatchObject({ input_tokens: 2499, requests: 833, cost_usd: '0.000833' });
    expect(result.records.reduce((total, record) => total + (record.requests ?? 0), 0)).toBe(100_000);
  }, 30_000);
});

describe('importUsageFile: a file of mostly bad rows, with skipInvalid', () => {
  const header = 'bucket_start,provider,model,input_tokens,output_tokens,requests\n';
  /** Row i (on line i + 2) is good when i % 5 == 0; else a negative counter or, every other time, a missing field. */
  const mostlyBad = (index: number): string => {
    const { timestamp, model } = rowOf(index);
    if (index % 5 === 0) return `${timestamp},openai,${model},3,2,1\n`;
    return index % 2 === 0 ? `${timestamp},openai,${model},-${index},2,1\n` : `${timestamp},openai,${model},3,2\n`;
  };

  it('keeps the first INVALID_ROW_LIMIT bad rows and counts every one', async () => {
    const path = join(directory, 'mostly-bad.csv');
    await writeLines(path, 50_000, header, mostlyBad);
    const result = await importUsageFile(path, { skipInvalid: true });
    expect(result.rowsRead).toBe(50_000);
    expect(result.rowsImported).toBe(10_000);
    expect(result.invalidRowCount).toBe(40_000);
    expect(result.invalidRows).toHaveLength(INVALID_ROW_LIMIT);
    // Lines 3, 4, 5, 6 (rows 1–4), then 8…: the first bad ones, in line order.
    expect(result.invalidRows.slice(0, 3)).toEqual([
      { line: 3, field: 'row', message: expect.stringContaining('fields') },
      { line: 4, field: 'input_tokens', message: 'must not be negative, got "-2"' },
      { line: 5, field: 'row', message: expect.stringContaining('fields') },
    ]);
    // The 1000th bad row is row 1249 (4 bad rows in every 5), on line 1251.
    expect(result.invalidRows.at(-1)?.line).toBe(1251);
    expect(result.records.reduce((total, record) => total + (record.requests ?? 0), 0)).toBe(10_000);
  }, 30_000);

  it('streams the events with as few kept bad rows as asked, the count exact', async () => {
    const path = join(directory, 'mostly-bad-stream.csv');
    await writeLines(path, 50_000, header, mostlyBad);
    const stream = readImportEvents(path, { skipInvalid: true, invalidRowLimit: 20 });
    let events = 0;
    for await (const batch of stream.batches) events += batch.length;
    expect(events).toBe(10_000);
    expect(stream.progress).toMatchObject({ rowsRead: 50_000, rowsImported: 10_000, invalidRowCount: 40_000 });
    expect(stream.progress.invalidRows.map((issue) => issue.line)).toEqual([3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16, 18, 19, 20, 21, 23, 24, 25, 26]);
  }, 30_000);

  it('lists refused cells after the bad rows within the same limit, and counts them', async () => {
    const path = join(directory, 'bad-rows-and-cell.csv');
    await writeLines(
      path,
      1,
      'bucket_start,granularity,provider,model,output_tokens,reasoning_tokens\n',
      () =>
        [
          '2026-10-04T01:00:00Z,hour,openai,gpt-5,-1,\n',
          '2026-10-04T02:10:00Z,hour,openai,gpt-5,,8\n',
          '2026-10-04T02:20:00Z,hour,openai,gpt-5,3,\n',
          '2026-10-04T03:00:00Z,hour,openai,gpt-5,x,\n',
          '2026-10-04T04:00:00Z,hour,openai,gpt-5,4,1\n',
        ].join(''),
    );
    const all = await importUsageFile(path, { skipInvalid: true });
    expect(all.invalidRows.map((issue) => [issue.line, issue.field])).toEqual([
      [2, 'output_tokens'],
      [5, 'output_tokens'],
      [3, 'reasoning_tokens'],
    ]);
    expect(all).toMatchObject({ invalidRowCount: 3, rowsRead: 5, rowsImported: 1 });
    const two = await importUsageFile(path, { skipInvalid: true, invalidRowLimit: 2 });
    expect(two.invalidRows).toEqual(all.invalidRows.slice(0, 2));
    expect(two).toMatchObject({ invalidRowCount: 3, rowsRead: 5, rowsImported: 1, records: all.records });
  });
});

function findCell(records: readonly UsageRecord[], day: number, model: string): UsageRecord | undefined {
  return records.find((record) => record.model === model && record.bucket_start.getUTCDate() === day);
}
