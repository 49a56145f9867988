/**
 * Finds the members of one JSON object without parsing the values it does
 * not need. A coding-agent transcript line is mostly content (prompts, file
 * bodies, thinking) the usage scan never looks at; JSON.parse would build all
 * of it. This walks the object's structure, jumping over strings with
 * indexOf, and returns where each wanted member's value starts and ends, so
 * only those slices are parsed. It does not validate what it skips: a line
 * that is not JSON usually shows as an unterminated value (undefined); the
 * slices handed to JSON.parse are validated there.
 *
 * @returns member name → [start, end) of its value, or undefined when the
 * object is not well formed.
 */
export function findJsonMembers(
  text: string,
  objectStart: number,
  wanted: ReadonlySet<string>,
  /** Also collect members of this member's object, as `member.key`, in the same pass. */
  nested?: { readonly member: string; readonly wanted: ReadonlySet<string> },
): Map<string, [number, number]> | undefined {
  const found = new Map<string, [number, number]>();
  return scanObject(text, objectStart, wanted, nested, found, '') < 0 ? undefined : found;
}

/** Index just after the object at `start`, or -1; wanted members go to `found`. */
function scanObject(
  text: string,
  start: number,
  wanted: ReadonlySet<string>,
  nested: { readonly member: string; readonly wanted: ReadonlySet<string> } | undefined,
  found: Map<string, [number, number]>,
  prefix: string,
): number {
  if (text.charCodeAt(start) !== 123) return -1;
  let index = start + 1;
  for (;;) {
    index = skipWhitespace(text, index);
    const code = text.charCodeAt(index);
    if (code === 125) return index + 1;
    if (code === 44) {
      index += 1;
      continue;
    }
    if (code !== 34) return -1;
    const keyEnd = stringEnd(text, index);
    if (keyEnd < 0) return -1;
    // Most members are not wanted: compare in place rather than slice every key.
    const key = wantedKeyAt(text, index + 1, keyEnd, wanted, nested?.member);
    index = skipWhitespace(text, keyEnd + 1);
    if (text.charCodeAt(index) !== 58) return -1;
    const valueStart = skipWhitespace(text, index + 1);
    const valueEnd =
      nested && key === nested.member && text.charCodeAt(valueStart) === 123
        ? scanObject(text, valueStart, nested.wanted, undefined, found, `${prefix}${key}.`)
        : valueEndAt(text, valueStart);
    if (valueEnd < 0) return -1;
    if (key !== undefined && wanted.has(key)) found.set(prefix + key, [valueStart, valueEnd]);
    index = valueEnd;
  }
}

/** The wanted name (or the nested member) spelled by text[start, end) as written (as before: keys are not unescaped); else undefined. */
function wantedKeyAt(text: string, start: number, end: number, wanted: ReadonlySet<string>, member: string | undefined): string | undefined {
  const length = end - start;
  const names = byLength(wanted)[length];
  if (names !== undefined) for (const name of names) if (text.startsWith(name, start)) return name;
  if (member !== undefined && member.length === length && text.startsWith(member, start)) return member;
  return undefined;
}

// Wanted names grouped by length, so that most keys are rejected by one array lookup.
const lengthTables = new WeakMap<ReadonlySet<string>, Array<string[] | undefined>>();

function byLength(wanted: ReadonlySet<string>): Array<string[] | undefined> {
  let table = lengthTables.get(wanted);
  if (table === undefined) {
    table = [];
    for (const name of wanted) (table[name.length] ??= []).push(name);
    lengthTables.set(wanted, table);
  }
  return table;
}

/** Index just after the JSON value starting at `start`, or -1. */
function valueEndAt(text: string, start: number): number {
  const code = text.charCodeAt(start);
  if (code === 34) {
    const end = stringEnd(text, start);
    return end < 0 ? -1 : end + 1;
  }
  if (code === 123 || code === 91) {
    let depth = 0;
    let index = start;
    while (index < text.length) {
      const current = text.charCodeAt(index);
      if (current === 34) {
        const end = stringEnd(text, index);
        if (end < 0) return -1;
        index = end + 1;
        continue;
      }
      if (current === 123 || current === 91) depth += 1;
      else if (current === 125 || current === 93) {
        depth -= 1;
        if (depth === 0) return index + 1;
      }
      index += 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let index = start;
  while (index < text.length) {
    const current = text.charCodeAt(index);
    if (current === 44 || current === 125 || current === 93 || current === 32 || current === 10 || current === 13 || current === 9) break;
    index += 1;
  }
  return index === start ? -1 : index;
}

/** Index of the closing quote of the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  for (;;) {
    const quote = text.indexOf('"', index);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let back = quote - 1; text.charCodeAt(back) === 92; back -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    index = quote + 1;
  }
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  for (;;) {
    const code = text.charCodeAt(index);
    if (code !== 32 && code !== 10 && code !== 13 && code !== 9) return index;
    index += 1;
  }
}
