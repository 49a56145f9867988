/**
 * Splits a file of queries, each introduced by a `-- name: <name>` line, into
 * a map from name to SQL. The files in sql/queries are written for people to
 * run by hand too; the names let the code run the very same text.
 */
export function parseNamedQueries(text: string): ReadonlyMap<string, string> {
  const queries = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (name === undefined) return;
    const sql = lines.join('\n').trim().replace(/;\s*$/, '');
    if (queries.has(name)) throw new Error(`query "${name}" is defined twice`);
    queries.set(name, sql);
  };
  for (const line of text.split('\n')) {
    const header = /^--\s*name:\s*([a-z0-9_]+)\s*$/.exec(line);
    if (header) {
      flush();
      name = header[1];
      lines = [];
    } else if (name !== undefined) {
      lines.push(line);
    }
  }
  flush();
  return queries;
}

/** The query called `name`; a missing one is a packaging bug, so it fails loudly. */
export function requireQuery(queries: ReadonlyMap<string, string>, name: string): string {
  const sql = queries.get(name);
  if (sql === undefined) throw new Error(`no query named "${name}" in the bundled SQL`);
  return sql;
}
