import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportFileError } from './import-file-error';
import { importUsageFile } from './import-usage-file';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-poison-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeTemp(name: string, content: string | Buffer): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

async function importError(path: string): Promise<ImportFileError> {
  const error = await importUsageFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ImportFileError.isInstance(error), String(error)).toBe(true);
  return error as ImportFileError;
}

const HEADER = 'bucket_start,provider,model,labels,input_tokens\n';
const GOOD = '2026-10-01,openai,gpt-4o,,10\n';

// The poison rows of the fault report: each was accepted (and failed the write
// with no line, or was stored mangled, or far outside any real date).
describe('importUsageFile refuses poison rows with file, line and field', () => {
  it('a 3,000-character model name', async () => {
    const path = await writeTemp('long-model.csv', `${HEADER}${GOOD}2026-10-01,openai,${'m'.repeat(3_000)},,10\n`);
    expect((await importError(path)).message).toBe(`${path}:3: model: is 3000 characters long; at most 256 bytes of UTF-8 are allowed`);
  });

  it('a 9 KB label', async () => {
    const path = await writeTemp('long-label.ndjson', `{"bucket_start":"2026-10-01","provider":"p","model":"m","labels":{"team":"${'x'.repeat(9_000)}"}}\n`);
    expect((await importError(path)).message).toBe(`${path}:1: labels: the value of label "team" is 9000 characters long; at most 256 bytes of UTF-8 are allowed`);
  });

  it('bytes that are not UTF-8, on the line they are on', async () => {
    const bad = Buffer.concat([Buffer.from(`${HEADER}${GOOD}2026-10-01,open`), Buffer.from([0xff, 0xfe]), Buffer.from('ai,gpt-4o,,10\n')]);
    const path = await writeTemp('latin.csv', bad);
    expect((await importError(path)).message).toBe(`${path}:3: provider: is not valid UTF-8 (it holds U+FFFD, the mark of undecodable bytes)`);
    const ndjson = Buffer.concat([Buffer.from('{"bucket_start":"2026-10-01","provider":"p","model":"m"}\n{"bucket_start":"2026-10-01","provider":"p","model":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    const ndjsonPath = await writeTemp('latin.ndjson', ndjson);
    expect((await importError(ndjsonPath)).message).toContain(`${ndjsonPath}:2: model: is not valid UTF-8`);
  });

  it('a JSON object with a duplicate key, in a JSON array and in NDJSON', async () => {
    const row = '{"bucket_start":"2026-10-01","provider":"p","model":"a","input_tokens":1,"model":"b"}';
    const jsonPath = await writeTemp('dup.json', `[\n{"bucket_start":"2026-10-01","provider":"p","model":"m"},\n${row}\n]\n`);
    expect((await importError(jsonPath)).message).toBe(`${jsonPath}:3: row: the key "model" appears twice in one object; refusing to guess which value is right`);
    const ndjsonPath = await writeTemp('dup.ndjson', `${row}\n`);
    expect((await importError(ndjsonPath)).message).toContain(`${ndjsonPath}:1: row: the key "model" appears twice`);
    // Equal keys in different objects (a row and its labels) are fine, and so is an escaped look-alike in a value.
    const fine = await writeTemp('fine.ndjson', '{"bucket_start":"2026-10-01","provider":"p","model":"m","labels":{"model":"x","k":"\\"model\\":"}}\n');
    expect((await importUsageFile(fine)).rowsImported).toBe(1);
  });

  it('years 0000 and 10000', async () => {
    const zero = await writeTemp('year0.csv', `${HEADER}0000-01-01,openai,gpt-4o,,1\n`);
    expect((await importError(zero)).message).toBe(`${zero}:2: bucket_start: 0000-01-01T00:00:00.000Z is outside the supported range (years 2000 to 2099)`);
    const far = await writeTemp('year10000.ndjson', '{"bucket_start":"2026-10-01","provider":"p","model":"m"}\n{"bucket_start":"+010000-01-01T00:00:00Z","provider":"p","model":"m"}\n');
    expect((await importError(far)).message).toMatch(/year10000\.ndjson:2: bucket_start: /);
  });

  it('an unclosed quote, reported on the line where it opened, not at the end of the file', async () => {
    const lines = [HEADER, GOOD, '2026-10-01,openai,"gpt-4o,,10\n'];
    for (let index = 0; index < 20_000; index++) lines.push(GOOD);
    const path = await writeTemp('unclosed.csv', lines.join(''));
    const error = await importError(path);
    expect(error.line).toBe(3);
    expect(error.message).toBe(`${path}:3: not valid CSV: a quote opened on this line is never closed (the rest of the file was read as one field)`);
  });

  it('an unclosed quote after a record with a quoted line break is still found where it opened', async () => {
    const path = await writeTemp('unclosed-late.csv', `${HEADER}2026-10-01,openai,gpt-4o,"{""team"":""a""}",10\n2026-10-01,openai,gpt-4o,"{""t"":\n""b""}",10\n${GOOD}2026-10-01,"openai,gpt,,1\n${GOOD}${GOOD}`);
    expect((await importError(path)).line).toBe(6);
  });
});
