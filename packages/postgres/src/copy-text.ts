// COPY's default text format: fields separated by tabs, rows by newlines, `\N`
// for NULL, and backslash, tab, newline and carriage return escaped so that any
// text (a model name, a label) arrives as it was.

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One text field, escaped; `\N` for NULL. */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (character) => ESCAPES[character] ?? character) : value;
}

/** One number field; `\N` for NULL. */
export function copyNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '\\N' : String(value);
}
