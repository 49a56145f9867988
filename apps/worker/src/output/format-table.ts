/** A plain aligned text table; numbers right-aligned. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** A count with thousands separators; null (unknown) is shown as "–", never as 0. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en-US');
}

/** Dollars with cents (and sub-cent amounts kept visible). */
export function formatUsd(value: string | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const number = Number(value);
  if (number !== 0 && Math.abs(number) < 0.01) return `$${number.toFixed(4)}`;
  return `$${number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
