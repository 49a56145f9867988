import type { CellValue, DataTable } from './data-table';

/**
 * Text a spreadsheet would run as a formula (= + - @, tab, carriage return)
 * gets a leading apostrophe: a model name or an error message in the ledger
 * must never execute in the reader's spreadsheet. Numeric columns are left
 * alone, so a negative gap stays a number.
 */
export function guardFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvField(value: CellValue | undefined, isText: boolean): string {
  if (value === null || value === undefined) return '';
  const text = isText ? guardFormula(String(value)) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV of a table: header labels, raw values (exact decimals, ISO timestamps), CRLF line ends. */
export function tableToCsv(table: DataTable): string {
  const lines = [table.columns.map((column) => csvField(column.label, true)).join(',')];
  for (const row of table.rows) {
    lines.push(table.columns.map((column) => csvField(row[column.key], column.kind === 'text' || column.kind === 'timestamp')).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
