import { TOKEN_COLUMNS } from '@utt/core';

/** The columns an import file may have: token_usage column names. */
export const IMPORT_COLUMNS = [
  'bucket_start',
  'granularity',
  'provider',
  'model',
  'account',
  'api_key',
  'user_id',
  'labels',
  ...TOKEN_COLUMNS,
  'cost_usd',
  'measurement_basis',
] as const;

export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Columns every file must have (and every row must fill). */
export const REQUIRED_IMPORT_COLUMNS = ['bucket_start', 'provider', 'model'] as const;

const KNOWN: ReadonlySet<string> = new Set(IMPORT_COLUMNS);

/** What is wrong with a set of column names, or undefined. */
export type ColumnProblem = { readonly field: string; readonly message: string };

/**
 * The first column name that is not a token_usage import column. A typo such
 * as `input_token` must fail loudly rather than silently drop its data.
 */
export function findUnknownColumn(names: Iterable<string>): ColumnProblem | undefined {
  for (const name of names) {
    if (KNOWN.has(name)) continue;
    if (name.trim() === '') return { field: '(empty)', message: 'a column has no name' };
    const suggestion = closestColumn(name);
    return {
      field: name,
      message: `unknown column${suggestion ? ` (did you mean ${suggestion}?)` : ''}; the columns are ${IMPORT_COLUMNS.join(', ')}`,
    };
  }
  return undefined;
}

/** Checks a CSV header: every column known, none twice, the required ones present. */
export function checkImportHeader(names: readonly string[]): ColumnProblem | undefined {
  const unknown = findUnknownColumn(names);
  if (unknown) return unknown;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) return { field: name, message: 'column appears twice in the header' };
    seen.add(name);
  }
  for (const required of REQUIRED_IMPORT_COLUMNS) {
    if (!seen.has(required)) return { field: required, message: 'required column is missing from the header' };
  }
  return undefined;
}

function closestColumn(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const column of IMPORT_COLUMNS) {
    const distance = editDistance(lower, column);
    if (distance < bestDistance) {
      best = column;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
