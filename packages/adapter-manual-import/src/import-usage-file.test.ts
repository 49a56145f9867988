import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportFileError } from './import-file-error';
import { importUsageFile } from './import-usage-file';

const fixture = (name: string): string => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-manual-import-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeTemp(name: string, content: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

const NO_TOKENS = {
  input_tokens: null,
  output_tokens: null,
  cached_read_tokens: null,
  cached_write_tokens: null,
  cached_write_1h_tokens: null,
  reasoning_tokens: null,
  requests: null,
};

/** The cells of __fixtures__/per-request.csv, summed by hand. */
function perRequestCells(sourceInstance: string) {
  return [
    {
      // rows 1 and 2 (09:15Z and 17:40Z); row 3 is 01:30Z on the next day
      source_instance: sourceInstance,
      granularity: 'day',
      bucket_start: new Date('2026-10-01T00:00:00Z'),
      provider: 'openai',
      model: 'gpt-4.1',
      account: 'acme',
      api_key: 'key-ci',
      user_id: 'alice',
      labels: { team: 'search, ranking' },
      input_tokens: 4000,
      output_tokens: 600,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
      reasoning_tokens: null,
      requests: 2,
      cost_usd: '0.0425',
      cost_source: 'provider',
      measurement_basis: 'exact',
    },
    {
      source_instance: sourceInstance,
      granularity: 'day',
      bucket_start: new Date('2026-10-02T00:00:00Z'),
      provider: 'openai',
      model: 'gpt-4.1',
      account: 'acme',
      api_key: 'key-ci',
      user_id: 'alice',
      labels: { team: 'search, ranking' },
      input_tokens: 500,
      output_tokens: 50,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
      reasoning_tokens: null,
      requests: 1,
      cost_usd: '0.005',
      cost_source: 'provider',
      measurement_basis: 'exact',
    },
    {
      // 06:00Z and 10:00Z; the file says 0 for the cache columns, so 0 it is
      source_instance: sourceInstance,
      granularity: 'day',
      bucket_start: new Date('2026-10-01T00:00:00Z'),
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      account: 'acme',
      api_key: '',
      user_id: 'bob',
      labels: {},
      input_tokens: 2100,
      output_tokens: 320,
      cached_read_tokens: 0,
      cached_write_tokens: 0,
      cached_write_1h_tokens: 0,
      reasoning_tokens: null,
      requests: 2,
      cost_usd: '0.012',
      cost_source: 'provider',
      measurement_basis: 'provider_aggregate', // the weaker of provider_aggregate and exact
    },
    {
      // labels in another key order are the same cell; one row has no cost → no cost
      source_instance: sourceInstance,
      granularity: 'day',
      bucket_start: new Date('2026-10-02T00:00:00Z'),
      provider: 'anthropic',
      model: 'claude-opus-4',
      account: '',
      api_key: '',
      user_id: 'carol',
      labels: { app: 'bot', env: 'prod' },
      input_tokens: 15,
      output_tokens: 600,
      cached_read_tokens: 4000, // 4000 + blank
      cached_write_tokens: 1500,
      cached_write_1h_tokens: 1000,
      reasoning_tokens: null,
      requests: 2,
      cost_usd: null,
      cost_source: null,
      measurement_basis: 'derived_estimate',
    },
    {
      source_instance: sourceInstance,
      granularity: 'day',
      bucket_start: new Date('2026-10-02T00:00:00Z'),
      provider: 'openai',
      model: 'o3',
      account: 'acme',
      api_key: '',
      user_id: '',
      labels: {},
      input_tokens: 1000,
      output_tokens: 1000,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
      reasoning_tokens: 650,
      requests: 2,
      cost_usd: '0.03',
      cost_source: 'provider',
      measurement_basis: 'derived_estimate',
    },
  ];
}

describe('importUsageFile: a per-request CSV', () => {
  it('rolls rows up into day cells with exact sums', async () => {
    const result = await importUsageFile(fixture('per-request.csv'));
    expect(result.format).toBe('csv');
    expect(result.rowsRead).toBe(9);
    expect(result.rowsImported).toBe(9);
    expect(result.invalidRows).toEqual([]);
    expect(result.records).toEqual(perRequestCells('per-request.csv'));
  });

  it('keeps NULL and 0 apart', async () => {
    const { records } = await importUsageFile(fixture('per-request.csv'));
    const gpt = records.find((record) => record.model === 'gpt-4.1');
    const sonnet = records.find((record) => record.model === 'claude-sonnet-4');
    expect(gpt?.cached_read_tokens).toBeNull();
    expect(sonnet?.cached_read_tokens).toBe(0);
  });

  it('leaves a cell without a cost when only some of its rows have one, and warns', async () => {
    const { records, warnings } = await importUsageFile(fixture('per-request.csv'));
    expect(records.find((record) => record.model === 'claude-opus-4')?.cost_usd).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 7, field: 'cost_usd' });
    expect(warnings[0]?.message).toContain('only 1 of the 2 rows');
  });

  it('reads quoted fields with commas and a labels JSON cell', async () => {
    const { records } = await importUsageFile(fixture('per-request.csv'));
    expect(records[0]?.labels).toEqual({ team: 'search, ranking' });
  });

  it('names the records after the file, or after the instance given', async () => {
    const byFile = await importUsageFile(fixture('per-request.csv'));
    expect(new Set(byFile.records.map((record) => record.source_instance))).toEqual(new Set(['per-request.csv']));
    const named = await importUsageFile(fixture('per-request.csv'), { sourceInstance: 'finance-export' });
    expect(named.records).toEqual(perRequestCells('finance-export'));
  });

  it('gives identical output when the same file is imported twice', async () => {
    const first = await importUsageFile(fixture('per-request.csv'));
    const second = await importUsageFile(fixture('per-request.csv'));
    expect(second).toEqual(first);
  });
});

describe('importUsageFile: JSON and NDJSON', () => {
  it('gives the same records from a JSON array as from the CSV', async () => {
    const result = await importUsageFile(fixture('per-request.json'), { sourceInstance: 'same' });
    expect(result.format).toBe('json');
    expect(result.rowsRead).toBe(9);
    expect(result.records).toEqual(perRequestCells('same'));
    // The cost warning points at the line where the element starts.
    expect(result.warnings).toEqual([expect.objectContaining({ line: 29, field: 'cost_usd' })]);
  });

  it('gives the same records from NDJSON as from the CSV', async () => {
    const result = await importUsageFile(fixture('per-request.ndjson'), { sourceInstance: 'same' });
    expect(result.format).toBe('ndjson');
    expect(result.records).toEqual(perRequestCells('same'));
    expect(result.warnings).toEqual([expect.objectContaining({ line: 6, field: 'cost_usd' })]);
  });

  it('takes .jsonl as NDJSON, and a format given over the extension', async () => {
    const jsonl = await writeTemp('usage.jsonl', '{"bucket_start":"2026-10-01","provider":"p","model":"m","requests":3}\n');
    expect((await importUsageFile(jsonl)).records).toEqual([expect.objectContaining({ requests: 3 })]);
    const text = await writeTemp('usage.txt', 'bucket_start,provider,model,requests\n2026-10-01,p,m,4\n');
    await expect(importUsageFile(text)).rejects.toThrow('usage.txt: cannot tell the format from the extension .txt');
    expect((await importUsageFile(text, { format: 'csv' })).records).toEqual([expect.objectContaining({ requests: 4 })]);
  });

  it('refuses an unknown key in a JSON row', async () => {
    const path = await writeTemp(
      'typo.ndjson',
      '{"bucket_start":"2026-10-01","provider":"p","model":"m"}\n{"bucket_start":"2026-10-01","provider":"p","model":"m","input_token":5}\n',
    );
    await expect(importUsageFile(path, { skipInvalid: true })).rejects.toThrow(/typo\.ndjson:2: input_token: unknown column \(did you mean input_tokens\?\)/);
  });

  it('reports an NDJSON line that is not JSON as a bad row', async () => {
    const path = await writeTemp('broken.ndjson', '{"bucket_start":"2026-10-01","provider":"p","model":"m"}\n\n{"bucket_start": \n');
    await expect(importUsageFile(path)).rejects.toThrow(/broken\.ndjson:3: row: not valid JSON/);
    const result = await importUsageFile(path, { skipInvalid: true });
    expect(result.records).toHaveLength(1);
    expect(result.invalidRows).toEqual([expect.objectContaining({ line: 3, field: 'row' })]);
  });
});

describe('importUsageFile: bad rows', () => {
  it('refuses the file at the first bad row, naming its line and field', async () => {
    const path = fixture('bad-row.csv');
    const error = await importUsageFile(path).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(ImportFileError.isInstance(error)).toBe(true);
    const importError = error as ImportFileError;
    // Line 5: the row before it spans lines 2 and 3 (a line break inside a quoted cell).
    expect(importError.message).toBe(`${path}:5: input_tokens: must not be negative, got "-5"`);
    expect(importError).toMatchObject({ file: path, line: 5, field: 'input_tokens' });
  });

  it('with skipInvalid returns the good rows and lists every bad one', async () => {
    const result = await importUsageFile(fixture('many-bad-rows.csv'), { skipInvalid: true });
    expect(result.rowsRead).toBe(13);
    expect(result.rowsImported).toBe(2);
    expect(result.invalidRows.map(({ line, field }) => [line, field])).toEqual([
      [3, 'input_tokens'], // -5
      [4, 'input_tokens'], // 1.5
      [5, 'input_tokens'], // "12 tokens"
      [6, 'bucket_start'], // month 13
      [7, 'granularity'], // week
      [8, 'measurement_basis'], // guess
      [9, 'labels'], // an array
      [10, 'labels'], // a number value
      [11, 'reasoning_tokens'], // more than the output
      [12, 'provider'], // empty
      [13, 'cost_usd'], // negative
    ]);
    expect(result.invalidRows[1]?.message).toBe('expected a whole number, got "1.5"');
    expect(result.records).toEqual([
      {
        ...NO_TOKENS,
        source_instance: 'many-bad-rows.csv',
        granularity: 'day',
        bucket_start: new Date('2026-10-01T00:00:00Z'),
        provider: 'openai',
        model: 'gpt-4.1',
        account: '',
        api_key: '',
        user_id: '',
        labels: {},
        input_tokens: 300,
        output_tokens: 30,
        requests: 2,
        cost_usd: '0.03',
        cost_source: 'provider',
        measurement_basis: 'derived_estimate',
      },
    ]);
  });

  it('refuses an unknown column, naming it', async () => {
    const path = fixture('unknown-column.csv');
    await expect(importUsageFile(path)).rejects.toThrow(`${path}:1: input_token: unknown column (did you mean input_tokens?)`);
    // Not a bad row: skipInvalid does not skip a column.
    await expect(importUsageFile(path, { skipInvalid: true })).rejects.toThrow(/input_token: unknown column/);
  });

  it('refuses a header without a required column, naming it', async () => {
    const path = fixture('missing-model.csv');
    await expect(importUsageFile(path)).rejects.toThrow(`${path}:1: model: required column is missing from the header`);
  });

  it('validates the rolled-up cell against the record invariants', async () => {
    // Each row is valid alone; the sum has more reasoning than output.
    const path = await writeTemp(
      'sum.csv',
      'bucket_start,provider,model,output_tokens,reasoning_tokens\n2026-10-01T01:00:00Z,p,m,,50\n2026-10-01T02:00:00Z,p,m,10,\n2026-10-02,p,m,5,1\n',
    );
    await expect(importUsageFile(path)).rejects.toThrow(/sum\.csv:2: reasoning_tokens: is part of output_tokens and cannot exceed it in the sum of the 2 rows/);
    const result = await importUsageFile(path, { skipInvalid: true });
    expect(result.records.map((record) => record.bucket_start)).toEqual([new Date('2026-10-02T00:00:00Z')]);
    expect(result.rowsImported).toBe(1);
    expect(result.invalidRows).toEqual([expect.objectContaining({ line: 2, field: 'reasoning_tokens' })]);
  });

  it('refuses a CSV row with the wrong number of fields as a bad row', async () => {
    const path = await writeTemp('short.csv', 'bucket_start,provider,model,requests\n2026-10-01,p,m,1\n2026-10-01,p\n');
    await expect(importUsageFile(path)).rejects.toThrow(/short\.csv:3: row: the number of fields does not match the header/);
  });

  it('refuses a file that cannot be read, or is empty', async () => {
    await expect(importUsageFile(join(directory, 'missing.csv'))).rejects.toThrow(/missing\.csv: file not found/);
    const empty = await writeTemp('empty.csv', '');
    await expect(importUsageFile(empty)).rejects.toThrow(/empty\.csv: the file is empty/);
    const emptyJson = await writeTemp('empty.json', '  \n');
    await expect(importUsageFile(emptyJson)).rejects.toThrow(/empty\.json:2: the file is empty/);
    const unclosed = await writeTemp('unclosed.csv', 'bucket_start,provider,model\n2026-10-01,"openai,gpt-4.1\n');
    await expect(importUsageFile(unclosed, { skipInvalid: true })).rejects.toThrow(/unclosed\.csv:\d+: not valid CSV/);
  });

  it('accepts a header with no rows, CRLF line ends and a byte order mark', async () => {
    const headerOnly = await writeTemp('header-only.csv', 'bucket_start,provider,model\n');
    expect(await importUsageFile(headerOnly)).toMatchObject({ rowsRead: 0, records: [] });
    const windows = await writeTemp('windows.csv', '\uFEFFbucket_start,provider,model,requests\r\n2026-10-01,p,m,1\r\n\r\n2026-10-01,p,m,2\r\n');
    const result = await importUsageFile(windows);
    expect(result.records).toEqual([expect.objectContaining({ requests: 3 })]);
    const windowsNdjson = await writeTemp('windows.ndjson', '{"bucket_start":"2026-10-01","provider":"p","model":"m","requests":1}\r\n');
    expect((await importUsageFile(windowsNdjson)).records).toEqual([expect.objectContaining({ requests: 1 })]);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(importUsageFile(fixture('per-request.csv'), { signal: controller.signal })).rejects.toThrow('shutting down');
  });
});

describe('importUsageFile: granularities', () => {
  it('rolls hour rows into hour cells, apart from day rows', async () => {
    const { records } = await importUsageFile(fixture('hourly.csv'));
    expect(records.map(({ granularity, bucket_start, input_tokens, output_tokens, requests }) => ({
      granularity,
      bucket_start,
      input_tokens,
      output_tokens,
      requests,
    }))).toEqual([
      // 13:05 and 13:59:59
      { granularity: 'hour', bucket_start: new Date('2026-10-01T13:00:00Z'), input_tokens: 300, output_tokens: 30, requests: 3 },
      // 14:00 and 15:30+01:00 (= 14:30Z)
      { granularity: 'hour', bucket_start: new Date('2026-10-01T14:00:00Z'), input_tokens: 1200, output_tokens: 120, requests: 12 },
      { granularity: 'day', bucket_start: new Date('2026-10-01T00:00:00Z'), input_tokens: 1600, output_tokens: 160, requests: 16 },
    ]);
  });

  it('rolls month rows into UTC months', async () => {
    const { records } = await importUsageFile(fixture('monthly.csv'));
    expect(records).toEqual([
      {
        ...NO_TOKENS,
        source_instance: 'monthly.csv',
        granularity: 'month',
        bucket_start: new Date('2026-10-01T00:00:00Z'),
        provider: 'cursor',
        model: 'pro',
        account: '',
        api_key: '',
        user_id: '',
        labels: {},
        cost_usd: '25.5', // 20.00 + 5.5
        cost_source: 'provider',
        measurement_basis: 'provider_aggregate',
      },
      {
        // 2026-10-31T23:00-05:00 is already November in UTC
        ...NO_TOKENS,
        source_instance: 'monthly.csv',
        granularity: 'month',
        bucket_start: new Date('2026-11-01T00:00:00Z'),
        provider: 'cursor',
        model: 'pro',
        account: '',
        api_key: '',
        user_id: '',
        labels: {},
        cost_usd: '40',
        cost_source: 'provider',
        measurement_basis: 'provider_aggregate',
      },
    ]);
  });
});

describe('importUsageFile: CSV quoting', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and names the line a row starts on', async () => {
    const path = await writeTemp(
      'quoted.csv',
      'bucket_start,provider,model,labels,requests\r\n' +
        '2026-10-01,p,"m,\n1","{""team"":""a""}",1\r\n' +
        '2026-10-01,p,m2,,x\r\n',
    );
    await expect(importUsageFile(path)).rejects.toThrow(/quoted\.csv:4: requests: expected a whole number/);
    const result = await importUsageFile(path, { skipInvalid: true });
    expect(result.records).toEqual([expect.objectContaining({ model: 'm,\n1', labels: { team: 'a' }, requests: 1 })]);
  });

  it('refuses a quote in the middle of an unquoted field or after a closing quote', async () => {
    const opening = await writeTemp('opening.csv', 'bucket_start,provider,model\n2026-10-01,op"enai,m\n');
    await expect(importUsageFile(opening)).rejects.toThrow(/opening\.csv:2: not valid CSV/);
    const closing = await writeTemp('closing.csv', 'bucket_start,provider,model\n2026-10-01,"openai"x,m\n');
    await expect(importUsageFile(closing)).rejects.toThrow(/closing\.csv:2: not valid CSV/);
  });

  it('says what is wrong with a file a spreadsheet saved in another shape, instead of naming an unknown column', async () => {
    const header = ['bucket_start', 'provider', 'model', 'input_tokens'];
    const row = ['2026-10-01T09:15:00Z', 'openai', 'gpt-4.1', '10'];
    // Excel's "CSV" in a European locale: semicolons.
    const semicolons = await writeTemp('semicolons.csv', `${header.join(';')}\n${row.join(';')}\n`);
    await expect(importUsageFile(semicolons)).rejects.toThrow(`${semicolons}:1: the header is one column separated by ";": utt reads comma-separated CSV; save the file with commas between the columns`);
    const tabs = await writeTemp('tabs.csv', `${header.join('\t')}\n${row.join('\t')}\n`);
    await expect(importUsageFile(tabs)).rejects.toThrow(/tabs\.csv:1: the header is one column separated by tabs: utt reads comma-separated CSV/);
    // Line ends of a lone carriage return ("CSV (Macintosh)").
    const returns = await writeTemp('returns.csv', `${header.join(',')}\r${row.join(',')}\r`);
    await expect(importUsageFile(returns)).rejects.toThrow(
      `${returns}:1: lines end with a carriage return alone (CR), as "CSV (Macintosh)" saves them; utt reads lines that end with LF or CRLF: save the file as "CSV UTF-8" or convert its line ends`,
    );
    // UTF-16 ("Unicode text"), with its byte order mark.
    const utf16 = await writeTemp('utf16.csv', '');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${header.join(',')}\n${row.join(',')}\n`, 'utf16le')]));
    await expect(importUsageFile(utf16)).rejects.toThrow(`${utf16}:1: the file is not UTF-8 text (it looks like UTF-16); save it as "CSV UTF-8"`);
    // The same rows, well formed, import.
    const good = await writeTemp('good.csv', `${header.join(',')}\r\n${row.join(',')}\r\n`);
    expect((await importUsageFile(good)).rowsImported).toBe(1);
  });
});
