import { describe, expect, it } from 'vitest';
import { guardFormula, tableToCsv } from './csv';
import { addDecimals, formatUsd, maskKey } from './format';
import { hostName, isAllowedHost, isLoopbackAddress } from './security';
import { renderStackedBarChart } from './stacked-bar-chart';
import { formatLocalDate, localDateOf, startOfLocalDay } from './zoned-time';

describe('CSV', () => {
  it('defuses text that a spreadsheet would run, and leaves numbers alone', () => {
    for (const text of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx']) expect(guardFormula(text)).toBe(`'${text}`);
    expect(guardFormula('gpt-5')).toBe('gpt-5');
    const csv = tableToCsv({
      id: 't',
      caption: 't',
      columns: [
        { key: 'name', label: 'Name', kind: 'text' },
        { key: 'gap', label: 'Gap %', kind: 'number' },
        { key: 'cost', label: 'Cost', kind: 'usd' },
      ],
      rows: [
        { name: '=cmd|"/c calc"!A1', gap: '-16.67', cost: null },
        { name: 'a,b', gap: '0', cost: '0.000000000001' },
      ],
      empty: '',
    });
    expect(csv).toBe('Name,Gap %,Cost\r\n"\'=cmd|""/c calc""!A1",-16.67,\r\n"a,b",0,0.000000000001\r\n');
  });
});

describe('money', () => {
  it('adds exact decimals and never shows unpriced as $0', () => {
    expect(addDecimals(['0.1', '0.2', null, '0.000000000001'])).toBe('0.300000000001');
    expect(addDecimals([null, null])).toBeNull();
    expect(formatUsd(null, 'unpriced')).toBe('unpriced');
    expect(formatUsd('0.004')).toBe('<$0.01');
    expect(formatUsd('1234.5')).toBe('$1,234.50');
  });
  it('masks key ids', () => {
    expect(maskKey('key-prod-7f3a9c1e55')).toMatch(/^…1e55 #[0-9a-f]{6}$/);
    expect(maskKey('short')).toMatch(/^key #[0-9a-f]{6}$/);
    expect(maskKey('')).toBe('');
  });
});

describe('hosts', () => {
  it('knows loopback addresses and checks Host headers', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackAddress(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) expect(isLoopbackAddress(host), host).toBe(false);
    expect(hostName('[::1]:8787')).toBe('::1');
    expect(hostName('Example.COM:80')).toBe('example.com');
    expect(hostName('a:b:c')).toBeNull();
    expect(isAllowedHost('127.0.0.1:8787', [])).toBe(true);
    expect(isAllowedHost('evil.example', [])).toBe(false);
    expect(isAllowedHost('127.0.0.1.evil.example', [])).toBe(false);
    expect(isAllowedHost(null, [])).toBe(false);
    expect(isAllowedHost('utt.corp:443', ['utt.corp'])).toBe(true);
  });
});

describe('reporting time zone', () => {
  it('starts local days at the right instant, daylight saving included', () => {
    expect(startOfLocalDay({ year: 2026, month: 3, day: 29 }, 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfLocalDay({ year: 2026, month: 3, day: 30 }, 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(startOfLocalDay({ year: 2026, month: 11, day: 1 }, 'America/Los_Angeles').toISOString()).toBe('2026-11-01T07:00:00.000Z');
    expect(startOfLocalDay({ year: 2026, month: 11, day: 2 }, 'America/Los_Angeles').toISOString()).toBe('2026-11-02T08:00:00.000Z');
    expect(formatLocalDate(localDateOf(new Date('2026-10-20T23:30:00Z'), 'Asia/Tokyo'))).toBe('2026-10-21');
  });

  it('starts a day whose midnight daylight saving skips at its first instant, not in the day before', () => {
    // Santiago, Havana, Cairo and the Azores spring forward at midnight: the local day starts at 01:00.
    const starts: [string, { year: number; month: number; day: number }, string][] = [
      ['America/Santiago', { year: 2026, month: 9, day: 6 }, '2026-09-06T04:00:00.000Z'],
      ['America/Havana', { year: 2026, month: 3, day: 8 }, '2026-03-08T05:00:00.000Z'],
      ['Africa/Cairo', { year: 2026, month: 4, day: 24 }, '2026-04-23T22:00:00.000Z'],
      ['Atlantic/Azores', { year: 2026, month: 3, day: 29 }, '2026-03-29T01:00:00.000Z'],
      // Santiago falls back at midnight: the repeated hour belongs to the day before.
      ['America/Santiago', { year: 2026, month: 4, day: 5 }, '2026-04-05T04:00:00.000Z'],
    ];
    for (const [zone, date, start] of starts) {
      const instant = startOfLocalDay(date, zone);
      expect(instant.toISOString(), `${zone} ${formatLocalDate(date)}`).toBe(start);
      expect(formatLocalDate(localDateOf(instant, zone))).toBe(formatLocalDate(date));
      expect(formatLocalDate(localDateOf(new Date(instant.getTime() - 1), zone)), `${zone}: the instant before is the day before`).not.toBe(formatLocalDate(date));
    }
  });
});

describe('chart', () => {
  it('is an accessible SVG with a tooltip per segment and escaped names', () => {
    const svg = renderStackedBarChart({
      id: 'c',
      title: 'Spend',
      description: 'Two days',
      categories: ['2026-10-01', '2026-10-02'],
      series: [
        { name: '<script>', values: [1, 2] },
        { name: 'b', values: [0, 3] },
      ],
      formatValue: (value) => `$${value}`,
    }).value;
    expect(svg).toContain('role="img" aria-labelledby="c-title c-desc"');
    expect(svg).toContain('<title>2026-10-02 · b: $3</title>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).not.toContain('<script>');
    expect(svg.match(/<rect /g)).toHaveLength(3);
  });
});
