import { describe, expect, it } from 'vitest';
import { isoTimestampMs } from './iso-timestamp';

const read = (text: string) => {
  const bytes = Buffer.from(`"${text}"`);
  return isoTimestampMs(bytes, 1, bytes.length - 1);
};

/** A seeded generator (mulberry32), so every run checks the same cases. */
function randomInts(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return (((value ^ (value >>> 14)) >>> 0) / 4_294_967_296) * below;
  };
}

describe('isoTimestampMs', () => {
  it('equals Date.parse for every instant written as Claude Code writes it', () => {
    const random = randomInts(1);
    const first = Date.parse('0000-01-01T00:00:00.000Z');
    const last = Date.parse('9999-12-31T23:59:59.999Z');
    for (let run = 0; run < 20_000; run += 1) {
      // Half anywhere in the four-digit years, half near now, where leap days and month ends matter most.
      const at = run % 2 === 0 ? first + Math.floor(random(last - first)) : Date.parse('2020-01-01T00:00:00.000Z') + Math.floor(random(10 * 366 * 86_400_000));
      const text = new Date(at).toISOString();
      expect(read(text)).toBe(at);
    }
  });

  it('equals Date.parse, or leaves it to Date.parse (NaN), for any digits in that shape', () => {
    const random = randomInts(2);
    // Each field up to a little past its range, so both sides of every bound come up.
    const field = (below: number, width: number) => String(Math.floor(random(below))).padStart(width, '0');
    let readHere = 0;
    for (let run = 0; run < 20_000; run += 1) {
      const text = `${field(10_000, 4)}-${field(14, 2)}-${field(33, 2)}T${field(26, 2)}:${field(62, 2)}:${field(62, 2)}.${field(1000, 3)}Z`;
      const value = read(text);
      if (Number.isNaN(value)) continue;
      readHere += 1;
      expect(value).toBe(Date.parse(text));
    }
    expect(readHere).toBeGreaterThan(10_000);
  });

  it('leaves every other form to Date.parse', () => {
    for (const text of [
      '2026-03-01T10:15:00Z',
      '2026-03-01T10:15:00.000+01:00',
      '2026-03-01 10:15:00.000Z',
      '2026-03-01T10:15:00.0000',
      '+02026-03-01T10:15:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '2026-0a-01T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '',
    ]) {
      expect(read(text)).toBeNaN();
    }
    expect(read('2024-02-29T23:59:59.999Z')).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
    expect(read('2000-02-29T00:00:00.000Z')).toBe(Date.parse('2000-02-29T00:00:00.000Z'));
  });
});
