/**
 * Writes a per-request usage CSV for `utt import`, fast (one string per 20,000
 * rows). Three shapes:
 * - `distinct`: every row its own hourly cell (hour i mod 8,760 of 2026, user_id u<i div 8,760>), with a cost;
 * - `rollup`: one model, no cost (priced per request), rows spread over `cells` consecutive hours;
 * - `invalid`: the `rollup` rows, a share `badShare` of them (default 0.9, spread evenly) bad in one of four
 *   ways that keep the number of fields (a negative or non-numeric counter, an impossible date, an unknown
 *   basis), for `utt import --skip-invalid`; a raw COPY into text columns still reads every line.
 *
 *   pnpm --filter @utt/bench exec tsx import/generate-import-csv.ts --shape rollup --rows 1000000 --out /tmp/rollup.csv
 *   pnpm --filter @utt/bench exec tsx import/generate-import-csv.ts --shape invalid --bad-share 0.9 --rows 1000000 --out /tmp/invalid.csv
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';

export type ImportShape = 'distinct' | 'rollup' | 'invalid';

export const IMPORT_SHAPES: readonly ImportShape[] = ['distinct', 'rollup', 'invalid'];

export const DEFAULT_BAD_SHARE = 0.9;

const START_MS = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const BATCH = 20_000;

export const IMPORT_HEADER = {
  distinct: 'bucket_start,granularity,provider,model,user_id,input_tokens,output_tokens,cached_read_tokens,requests,cost_usd,measurement_basis',
  rollup: 'bucket_start,granularity,provider,model,input_tokens,output_tokens,cached_read_tokens,cached_write_tokens,requests,measurement_basis',
  invalid: 'bucket_start,granularity,provider,model,input_tokens,output_tokens,cached_read_tokens,cached_write_tokens,requests,measurement_basis',
} as const;

/** Row `index` is bad when the running count of bad rows, `floor(index × share)`, steps up at it: exactly the share, evenly spread. */
function isBad(index: number, badShare: number): boolean {
  return Math.floor((index + 1) * badShare) > Math.floor(index * badShare);
}

/** A rollup-shaped row broken one of four ways (by `index mod 4`), each refused by its own check with its own message. */
function badLine(index: number, cells: number): string {
  const at = new Date(START_MS + (index % cells) * HOUR_MS + (index % 3_600) * 1000).toISOString();
  const input = 100 + (index % 9_000);
  const output = 10 + (index % 700);
  switch (index % 4) {
    case 0:
      return `${at},hour,anthropic,claude-sonnet-4-5,-${input},${output},,0,1,exact\n`;
    case 1:
      return `${at},hour,anthropic,claude-sonnet-4-5,${input} tokens,${output},,0,1,exact\n`;
    case 2:
      return `2026-13-${String((index % 28) + 1).padStart(2, '0')}T01:00:00Z,hour,anthropic,claude-sonnet-4-5,${input},${output},,0,1,exact\n`;
    default:
      return `${at},hour,anthropic,claude-sonnet-4-5,${input},${output},,0,1,guess\n`;
  }
}

function line(shape: ImportShape, index: number, cells: number, badShare: number): string {
  if (shape === 'invalid' && isBad(index, badShare)) return badLine(index, cells);
  const input = 100 + (index % 9_000);
  const output = 10 + (index % 700);
  if (shape === 'distinct') {
    const at = new Date(START_MS + (index % 8_760) * HOUR_MS + (index % 3_600) * 1000).toISOString();
    const cost = ((input * 25 + output * 100) / 10_000_000).toFixed(7);
    return `${at},hour,openai,gpt-4o,u${Math.floor(index / 8_760)},${input},${output},${index % 3 === 0 ? '' : index % 50},1,${cost},exact\n`;
  }
  const at = new Date(START_MS + (index % cells) * HOUR_MS + (index % 3_600) * 1000).toISOString();
  // Every 40th request is a long one, past a long-context tier where the model has one.
  const long = index % 40 === 0 ? 210_000 : input;
  return `${at},hour,anthropic,claude-sonnet-4-5,${long},${output},${index % 5 === 0 ? '' : index % 4000},${index % 7 === 0 ? 1200 : 0},1,exact\n`;
}

export async function generateImportCsv(
  path: string,
  shape: ImportShape,
  rows: number,
  cells = 5_835,
  badShare = DEFAULT_BAD_SHARE,
): Promise<{ bytes: number; badRows: number }> {
  const out = createWriteStream(path);
  out.write(`${IMPORT_HEADER[shape]}\n`);
  for (let start = 0; start < rows; start += BATCH) {
    let text = '';
    for (let index = start; index < Math.min(rows, start + BATCH); index++) text += line(shape, index, cells, badShare);
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  return { bytes: out.bytesWritten, badRows: shape === 'invalid' ? Math.floor(rows * badShare) : 0 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      shape: { type: 'string', default: 'rollup' },
      rows: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      cells: { type: 'string', default: '5835' },
      'bad-share': { type: 'string', default: String(DEFAULT_BAD_SHARE) },
    },
  });
  const shape = values.shape as ImportShape;
  if (!values.out || !IMPORT_SHAPES.includes(shape)) throw new Error('usage: --shape distinct|rollup|invalid --rows N --out FILE [--bad-share 0.9]');
  const started = Date.now();
  const { bytes, badRows } = await generateImportCsv(values.out, shape, Number(values.rows), Number(values.cells), Number(values['bad-share']));
  console.log(`${values.out}: ${values.rows} rows (${badRows} bad), ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - started} ms`);
}
