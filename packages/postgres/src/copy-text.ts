/** A value COPY's text format can carry: NULL, a number or text. */
export type CopyValue = string | number | null;

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One row in COPY's default text format: tab-separated, `\N` for NULL, and
 * backslash, tab, newline and carriage return escaped so that any text
 * (a model name, a label) arrives as it was.
 */
export function encodeCopyLine(values: readonly CopyValue[]): string {
  let line = '';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) line += '\t';
    const value = values[index];
    if (value === null || value === undefined) line += '\\N';
    else if (typeof value === 'number') line += String(value);
    else line += SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (character) => ESCAPES[character] ?? character) : value;
  }
  return `${line}\n`;
}
