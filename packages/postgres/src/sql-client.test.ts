import { describe, expect, it } from 'vitest';
import type { SqlClient } from './sql-client';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';

describe.each(TEST_BACKENDS)('SqlClient on $name', (backend) => {
  const store = useTestStore(backend);
  const client = (): SqlClient => store().client;
  const table = () => `"${store().schema}".client_test`;

  it('returns BIGINT as number, NUMERIC as string, TIMESTAMPTZ as Date and JSONB parsed', async () => {
    const [row] = await client().query<Record<string, unknown>>(
      `SELECT 3000000000::bigint AS big, 0.000000000000000001::numeric AS money,
              '2025-03-01T10:00:00Z'::timestamptz AS at, '{"a":"1"}'::jsonb AS labels, COUNT(*) AS counted
       FROM (VALUES (1)) AS one(x)`,
    );
    expect(row).toEqual({ big: 3_000_000_000, money: '0.000000000000000001', at: new Date('2025-03-01T10:00:00Z'), labels: { a: '1' }, counted: 1 });
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await client().exec(`CREATE TABLE ${table()} (value INT); INSERT INTO ${table()} VALUES (0);`);
    await client().transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table()} VALUES ($1)`, [1]);
    });
    await expect(
      client().transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table()} VALUES ($1)`, [2]);
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    const rows = await client().query<{ value: number }>(`SELECT value FROM ${table()} ORDER BY value`);
    expect(rows.map((row) => row.value)).toEqual([0, 1]);
  });

  it('turns a nested transaction into a savepoint that rolls back alone', async () => {
    await client().exec(`DELETE FROM ${table()}`);
    await client().transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table()} VALUES (10)`);
      await expect(
        tx.transaction(async (inner) => {
          await inner.query(`INSERT INTO ${table()} VALUES (11)`);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await tx.transaction(async (inner) => {
        await inner.query(`INSERT INTO ${table()} VALUES (12)`);
      });
    });
    const rows = await client().query<{ value: number }>(`SELECT value FROM ${table()} ORDER BY value`);
    expect(rows.map((row) => row.value)).toEqual([10, 12]);
  });

  it('refuses statements on a transaction client after its transaction ended', async () => {
    let escaped: SqlClient | undefined;
    await client().transaction(async (tx) => {
      escaped = tx;
    });
    await expect(escaped?.query('SELECT 1')).rejects.toThrow(/already ended/);
    await expect(escaped?.close()).rejects.toThrow(/cannot be closed/);
  });
});
