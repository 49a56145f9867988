import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IMPORT_COLUMNS } from './import-columns';
import { csvLineParser } from './parse-csv-line';
import { parseImportRow } from './parse-import-row';

/**
 * The fast line reader decides nothing: every line it reads must be a line the
 * general reader (split, then parseImportRow) accepts, to the same row; every
 * other line it must leave to the general reader.
 */
function general(names: readonly string[], line: string) {
  const fields = line.split(',');
  if (fields.length !== names.length) return { ok: false as const };
  const values: Record<string, string> = {};
  names.forEach((name, index) => {
    values[name] = fields[index] as string;
  });
  return parseImportRow(values);
}

function fast(names: readonly string[], line: string) {
  const padded = `x\n${line}\r\nnext,line`; // read in place from the middle of a piece, as the CSV reader does
  const start = 2;
  return csvLineParser(names)?.(padded, start, start + line.length, 7);
}

const TOKEN_NAMES = ['input_tokens', 'output_tokens', 'cached_read_tokens', 'cached_write_tokens', 'cached_write_1h_tokens', 'reasoning_tokens', 'requests'];

const counterCell = fc.oneof(
  fc.constantFrom('', '0', '7', '007', '-0', '-3', '5.0', '5.5', '1e3', ' 12', '12 ', '+4', '9007199254740991', '9007199254740992', '123456789012345', '1234567890123456', 'abc'),
  fc.integer({ min: 0, max: 10_000_000 }).map(String),
);
const textCell = fc.constantFrom('', 'openai', 'gpt-4o', ' padded', 'tail ', 'x\uFFFDy', 'caf\u00e9', '\u00e9t\u00e9', 'u1', 'key-1', 'a'.repeat(600));
const timestampCell = fc.oneof(
  fc.constantFrom(
    '',
    '2026-10-01T13:05:09.123Z',
    '2026-10-01T13:05:09Z',
    '2026-10-01T13:05:09.1234567Z',
    '2026-10-01',
    '2026-10-01 13:05:09',
    '2026-10-01T13:05:09+02:00',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-10-01T24:00:00Z',
    '0099-10-01T00:00:00Z',
    '1999-10-01T00:00:00Z',
    '2200-01-01T00:00:00Z',
    '2026-10-01T13:05:09.Z',
    '2026-1a-01T13:05:09Z',
    ' 2026-10-01T13:05:09Z',
  ),
  fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
);
const costCell = fc.constantFrom('', '0.0125', '5.', '.5', '.', '1.2.3', '-1', '1e-3', ' 0.5', '0.123456789012345678', '0.1234567890123456789', '0.1234567890123456780', '00012', 'x');
const enumCell = (values: readonly string[]) => fc.constantFrom('', ...values, ...values.map((value) => value.toUpperCase()), ` ${values[0]}`, 'other');

/** Mostly plain values, so that many lines are whole rows, and now and then an edge case in one of the cells. */
const cellFor = (name: string): fc.Arbitrary<string> =>
  fc.oneof({ arbitrary: plainCellFor(name), weight: 12 }, { arbitrary: edgeCellFor(name), weight: 1 });

const plainCellFor = (name: string): fc.Arbitrary<string> => {
  if (name === 'bucket_start') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  if (name === 'granularity') return fc.constantFrom('hour', 'day', 'month', '');
  if (name === 'measurement_basis') return fc.constantFrom('exact', 'provider_aggregate', 'derived_estimate', '');
  if (name === 'labels') return fc.constant('');
  if (name === 'cost_usd') return fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 1e9 }).map((value) => `0.${String(value).padStart(9, '0')}`));
  // Small counters, so the parts stay within their wholes (1-hour writes, reasoning) often enough.
  if (TOKEN_NAMES.includes(name)) return fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 50 }).map(String));
  return fc.constantFrom('', 'openai', 'gpt-4o', 'u1');
};

const edgeCellFor = (name: string): fc.Arbitrary<string> => {
  if (name === 'bucket_start') return timestampCell;
  if (name === 'granularity') return enumCell(['hour', 'day', 'month']);
  if (name === 'measurement_basis') return enumCell(['exact', 'provider_aggregate', 'derived_estimate']);
  if (name === 'labels') return fc.constantFrom('', '{}', ' ', 'x');
  if (name === 'cost_usd') return costCell;
  if (TOKEN_NAMES.includes(name)) return counterCell;
  return textCell;
};

const headerArb = fc
  .shuffledSubarray(IMPORT_COLUMNS.filter((name) => !['bucket_start', 'provider', 'model'].includes(name)) as string[])
  .chain((rest) => fc.shuffledSubarray(['bucket_start', 'provider', 'model', ...rest], { minLength: 3 + rest.length }));

describe('csvLineParser', () => {
  it('reads a line to the row the general reader gives, or leaves it to the general reader', () => {
    fc.assert(
      fc.property(
        headerArb.chain((names) =>
          fc.tuple(
            fc.constant(names),
            fc.tuple(...names.map(cellFor)),
            fc.constantFrom(0, 0, 0, 1, -1), // a field too many or too few
          ),
        ),
        ([names, cells, extra]) => {
          const fields = extra === 1 ? [...cells, '1'] : extra === -1 ? cells.slice(0, -1) : cells;
          const line = fields.join(',');
          const row = fast(names, line);
          if (row === undefined) return;
          const expected = general(names, line);
          expect(expected.ok).toBe(true);
          if (!expected.ok) return;
          const { line: lineNumber, computed_cost_usd, price_ref, price_plan, unpriced_reason, ...rest } = row;
          expect(rest).toEqual(expected.row);
          // Hour and day buckets share one Date per bucket (months are rare enough to get their own).
          if (rest.granularity !== 'month') expect(rest.bucket_start).toBe(expected.row.bucket_start);
          expect([lineNumber, computed_cost_usd, price_ref, price_plan, unpriced_reason]).toEqual([7, null, null, null, null]);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads the plain lines of an export itself', () => {
    const names = ['bucket_start', 'granularity', 'provider', 'model', 'user_id', 'input_tokens', 'output_tokens', 'cached_read_tokens', 'requests', 'cost_usd', 'measurement_basis'];
    const row = fast(names, '2026-10-01T13:05:09.123Z,hour,openai,gpt-4o,u1,120,30,,1,0.0125,exact');
    expect(row).toMatchObject({
      bucket_start: new Date('2026-10-01T13:00:00Z'),
      granularity: 'hour',
      provider: 'openai',
      model: 'gpt-4o',
      user_id: 'u1',
      account: '',
      input_tokens: 120,
      cached_read_tokens: null,
      reasoning_tokens: null,
      cost_usd: '0.0125',
      measurement_basis: 'exact',
    });
    // Without granularity and basis columns, the defaults of the general reader.
    expect(fast(['bucket_start', 'provider', 'model'], '2026-10-01T13:05:09Z,openai,gpt-4o')).toMatchObject({ granularity: 'day', measurement_basis: 'derived_estimate' });
  });
});
