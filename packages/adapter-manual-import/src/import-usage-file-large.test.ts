import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { UsageRecord } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsageFile } from './import-usage-file';

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

function findCell(records: readonly UsageRecord[], day: number, model: string): UsageRecord | undefined {
  return records.find((record) => record.model === model && record.bucket_start.getUTCDate() === day);
}
