import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../errors/invalid-record-error';
import { toProviderCostRow, toUsageRow } from './parse-usage-record';

const base = {
  granularity: 'hour' as const,
  bucket_start: new Date('2025-03-14T10:00:00Z'),
  provider: 'openai',
  model: 'gpt-4o',
  measurement_basis: 'exact' as const,
};

function refusal(input: unknown): InvalidRecordError {
  try {
    toUsageRow(input, { sourceSystem: 's', defaultInstance: 'i', where: 'source "openai" record 7' });
  } catch (error) {
    expect(InvalidRecordError.isInstance(error)).toBe(true);
    return error as InvalidRecordError;
  }
  throw new Error('expected the record to be refused');
}

// Poison rows from the fault report: each made PostgreSQL fail the whole write
// with "index row size … exceeds btree maximum" and no field, every cycle; or
// was stored mangled, or far outside any real date.
describe('dimension values are bounded and clean, and the error names the source, record and field', () => {
  it('refuses a 3,000-character model name', () => {
    const error = refusal({ ...base, model: 'm'.repeat(3_000) });
    expect(error.message).toContain('source "openai" record 7');
    expect(error.issues).toEqual(['model: is 3000 characters long; at most 256 bytes of UTF-8 are allowed']);
  });

  it('counts bytes, not characters: 100 four-byte characters are 400 bytes', () => {
    expect(refusal({ ...base, account: '😀'.repeat(100) }).issues).toEqual(['account: is 400 bytes of UTF-8; at most 256 are allowed']);
  });

  it('refuses a 9 KB label and too many labels', () => {
    expect(refusal({ ...base, labels: { team: 'x'.repeat(9_000) } }).issues).toEqual([
      'labels: the value of label "team" is 9000 characters long; at most 256 bytes of UTF-8 are allowed',
    ]);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`k${index}`, 'v']));
    expect(refusal({ ...base, labels: many }).issues).toEqual(['labels: has 40 labels; at most 32 are allowed']);
    const wide = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`key${index}`, 'v'.repeat(200)]));
    expect(refusal({ ...base, labels: wide }).issues[0]).toMatch(/^labels: are \d+ bytes as JSON; at most 1024 are allowed$/);
  });

  it('refuses text that was not valid UTF-8 (U+FFFD), a lone surrogate and a NUL', () => {
    expect(refusal({ ...base, provider: 'open\uFFFD\uFFFDai' }).issues).toEqual(['provider: is not valid UTF-8 (it holds U+FFFD, the mark of undecodable bytes)']);
    expect(refusal({ ...base, user_id: 'a\uD800b' }).issues).toEqual(['user_id: is not valid Unicode (a lone surrogate)']);
    expect(refusal({ ...base, api_key: 'a\0b' }).issues).toEqual(['api_key: must not contain a NUL character (PostgreSQL cannot store it)']);
  });

  it('refuses years 0000 and 10000 but keeps 2000 to 2099', () => {
    expect(refusal({ ...base, bucket_start: '0000-01-01T00:00:00Z' }).issues[0]).toMatch(/^bucket_start: .* is outside the supported range \(years 2000 to 2099\)$/);
    expect(refusal({ ...base, bucket_start: new Date(Date.UTC(10000, 0, 1)) }).issues[0]).toContain('outside the supported range');
    expect(toUsageRow({ ...base, bucket_start: '2000-01-01T00:00:00Z' }, { sourceSystem: 's', defaultInstance: 'i' }).bucket_start.getUTCFullYear()).toBe(2000);
  });

  it('applies the same limits to provider cost records', () => {
    expect(() =>
      toProviderCostRow(
        { bucket_start: '2025-03-14T00:00:00Z', provider: 'openai', line_item: 'x'.repeat(5_000), amount_usd: 1 },
        { sourceSystem: 's', defaultInstance: 'i', where: 'source "openai" provider cost 0' },
      ),
    ).toThrow(/provider cost 0[\s\S]*line_item: is 5000 characters long/);
  });
});
