/**
 * Writes a per-request usage CSV for `utt import`, fast (one string per 20,000
 * rows). Two shapes:
 * - `distinct`: every row its own hourly cell (hour i mod 8,760 of 2026, user_id u<i div 8,760>), with a cost;
 * - `rollup`: one model, no cost (priced per request), rows spread over `cells` consecutive hours.
 *
 *   pnpm --filter @utt/bench exec tsx import/generate-import-csv.ts --shape rollup --rows 1000000 --out /tmp/rollup.csv
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';

export type ImportShape = 'distinct' | 'rollup';

const START_MS = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const BATCH = 20_000;

export const IMPORT_HEADER = {
  distinct: 'bucket_start,granularity,provider,model,user_id,input_tokens,output_tokens,cached_read_tokens,requests,cost_usd,measurement_basis',
  rollup: 'bucket_start,granularity,provider,model,input_tokens,output_tokens,cached_read_tokens,cached_write_tokens,requests,measurement_basis',
} as const;

function line(shape: ImportShape, index: number, cells: number): string {
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

export async function generateImportCsv(path: string, shape: ImportShape, rows: number, cells = 5_835): Promise<{ bytes: number }> {
  const out = createWriteStream(path);
  out.write(`${IMPORT_HEADER[shape]}\n`);
  for (let start = 0; start < rows; start += BATCH) {
    let text = '';
    for (let index = start; index < Math.min(rows, start + BATCH); index++) text += line(shape, index, cells);
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  return { bytes: out.bytesWritten };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { shape: { type: 'string', default: 'rollup' }, rows: { type: 'string', default: '1000000' }, out: { type: 'string' }, cells: { type: 'string', default: '5835' } },
  });
  if (!values.out || (values.shape !== 'distinct' && values.shape !== 'rollup')) throw new Error('usage: --shape distinct|rollup --rows N --out FILE');
  const started = Date.now();
  const { bytes } = await generateImportCsv(values.out, values.shape, Number(values.rows), Number(values.cells));
  console.log(`${values.out}: ${values.rows} rows, ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - started} ms`);
}
