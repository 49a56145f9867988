import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { bindPieces, LARGE_PARAMETER_BYTES, ParameterPieces } from './bind-large-parameters';
import { jsonbParameter } from './jsonb-parameter';
import type { SqlClient } from './sql-client';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';

// pg's own framing of a Bind message (pg-protocol, pg's dependency), to hold bindPieces to.
const pgRequire = createRequire(createRequire(import.meta.url).resolve('pg'));
const { serialize } = pgRequire('pg-protocol') as { serialize: { bind(config: object): Buffer } };
const { prepareValue } = pgRequire('./utils') as { prepareValue(value: unknown): unknown };

const large = (size: number, fill: number) => Buffer.alloc(size, fill);

describe('bindPieces', () => {
  it.each([
    { name: 'one large buffer', values: [large(LARGE_PARAMETER_BYTES, 0x61)] },
    {
      name: 'text, nulls and buffers around large ones',
      values: ['source', large(LARGE_PARAMETER_BYTES + 3, 0x62), null, 'ünïcødé ✓ 𝄞', undefined, Buffer.from([1, 2, 3]), large(200_000, 0x63), ''],
    },
    { name: 'a named portal and statement, binary results', values: [large(70_000, 0x64), 'x'], portal: 'p1', statement: 'stmt_ä', binary: true },
  ])('frames $name exactly as pg does', ({ values, portal, statement, binary }) => {
    const config = { values, portal, statement, binary };
    const pieces = bindPieces(config);
    expect(pieces).toBeDefined();
    const expected = serialize.bind({ ...config, valueMapper: prepareValue });
    expect(Buffer.concat(pieces as Buffer[]).equals(expected)).toBe(true);
    // The large buffers themselves are among the pieces, not copies of them.
    for (const value of values) if (Buffer.isBuffer(value) && value.length >= LARGE_PARAMETER_BYTES) expect(pieces).toContain(value);
  });

  it('sends the pieces of a ParameterPieces as they are, framed as pg frames them joined (and joined by pg itself)', () => {
    const run = large(100_000, 0x65);
    const pieces = new ParameterPieces([Buffer.from([0, 0, 0, 1]), run, Buffer.from('tail')]);
    const small = new ParameterPieces([Buffer.from('ab'), Buffer.from('c')]);
    const config = { values: ['source', pieces, small, null] };
    const sent = bindPieces(config);
    expect(sent).toBeDefined();
    const joined = { values: ['source', pieces.toPostgres(), small.toPostgres(), null] };
    expect(Buffer.concat(sent as Buffer[]).equals(serialize.bind({ ...joined, valueMapper: prepareValue }))).toBe(true);
    expect(sent).toContain(run);
    // Without the override, pg's own bind joins them through toPostgres: the same bytes.
    expect(serialize.bind({ ...config, valueMapper: prepareValue }).equals(serialize.bind({ ...joined, valueMapper: prepareValue }))).toBe(true);
  });

  it('leaves to pg a bind without a large buffer, or with a value pg converts', () => {
    expect(bindPieces({ values: ['a', Buffer.alloc(10), null] })).toBeUndefined();
    expect(bindPieces({ values: [large(LARGE_PARAMETER_BYTES, 0x61), 42] })).toBeUndefined();
    expect(bindPieces({ values: [large(LARGE_PARAMETER_BYTES, 0x61), new Date(0)] })).toBeUndefined();
    expect(bindPieces({ values: [large(LARGE_PARAMETER_BYTES, 0x61), ['a']] })).toBeUndefined();
    expect(bindPieces({})).toBeUndefined();
  });
});

describe.each(TEST_BACKENDS)('large parameters on $name', (backend) => {
  const store = useTestStore(backend);
  const client = (): SqlClient => store().client;

  it('reach the server whole, beside text and null parameters, in and out of a transaction', async () => {
    const text = JSON.stringify(Array.from({ length: 20_000 }, (_, index) => ({ index, note: index % 7 === 0 ? 'ünïcødé "quoted" ✓' : 'plain' })));
    expect(text.length).toBeGreaterThan(LARGE_PARAMETER_BYTES);
    const statement = `SELECT $1::text AS before, jsonb_array_length($2::jsonb) AS count, md5(($2::jsonb)::text) AS digest, $3::text AS missing, $4::text AS after`;
    const [expected] = await client().query<Record<string, unknown>>(`SELECT md5(($1::jsonb)::text) AS digest`, [text]);
    const check = (row: Record<string, unknown> | undefined) =>
      expect(row).toEqual({ before: 'før', count: 20_000, digest: expected?.digest, missing: null, after: 'efter ✓' });
    check((await client().query<Record<string, unknown>>(statement, ['før', jsonbParameter(client().kind, text), null, 'efter ✓']))[0]);
    await client().transaction(async (tx) => {
      check((await tx.query<Record<string, unknown>>(statement, ['før', jsonbParameter(tx.kind, text), null, 'efter ✓']))[0]);
      // The connection goes on framing ordinary statements after it.
      expect(await tx.query<{ one: number }>('SELECT $1::int AS one', [1])).toEqual([{ one: 1 }]);
    });
  });
});
