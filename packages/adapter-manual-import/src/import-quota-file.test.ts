import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseQuotaReading } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { importQuotaFile } from './import-quota-file';
import { manualImportConfigSchema } from './manual-import-config';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'quota-log.jsonl');

describe('importQuotaFile', () => {
  it("reads utt's reading shape and token-monitor's log lines", async () => {
    const readings = (await importQuotaFile(FIXTURE, { skipInvalid: false })).map((reading) => parseQuotaReading(reading, { source: 'history' }));
    expect(readings.map((r) => [r.account, r.window, r.usedRatio, r.resetsAt?.toISOString() ?? null, r.status, r.obtainedVia])).toEqual([
      ['team-molto', '5h', 0.32, '2026-12-03T16:00:00.000Z', 'allowed', 'log'],
      ['team-vigilio', '5h', 0.42, null, 'rejected', 'piggyback'],
      ['team-vigilio', '7d', 1, '2026-04-11T14:00:00.000Z', 'rejected', 'piggyback'],
    ]);
  });

  it('names the file and line of a bad line, or skips it with skipInvalid', async () => {
    const file = path.join(os.tmpdir(), `utt-quota-${process.pid}.jsonl`);
    writeFileSync(file, '{"provider":"openai","account":"a","window":"7d","usedRatio":0.1,"status":"allowed","observedAt":"2026-12-01T00:00:00Z"}\n{"provider":"openai","account":"a","window":"7d","usedRatio":"high","status":"allowed","observedAt":"x"}\nnot json\n');
    await expect(importQuotaFile(file, { skipInvalid: false })).rejects.toThrow(`${file}:2: usedRatio: must be a number`);
    const skipped: number[] = [];
    const readings = await importQuotaFile(file, { skipInvalid: true, onSkipped: (line) => skipped.push(line) });
    expect(readings).toHaveLength(1);
    expect(skipped).toEqual([2, 3]);
  });

  it('lets a source import only quota files', () => {
    expect(manualImportConfigSchema.parse({ quotaFiles: ['q.jsonl'] })).toEqual({ files: [], quotaFiles: ['q.jsonl'], skipInvalid: false });
    expect(manualImportConfigSchema.safeParse({}).success).toBe(false);
  });
});
