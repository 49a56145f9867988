import { formatIssues, ResponseShapeError, type z } from '@utt/core';

/**
 * Parses newline-delimited JSON, one value per line, each validated with
 * `schema`. Blank lines are skipped; a malformed line fails the whole file with
 * its 1-based line number, so nothing from a half-understood report is written.
 * `source` names the file in errors (never the signed URL it came from).
 */
export function parseNdjson<TSchema extends z.ZodType>(text: string, schema: TSchema, source: string): z.output<TSchema>[] {
  const values: z.output<TSchema>[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    const where = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ResponseShapeError({ endpoint: source, issues: [`${where}: not valid JSON`], cause: error });
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new ResponseShapeError({ endpoint: source, issues: formatIssues(result.error.issues, where).map(qualify(where)) });
    }
    values.push(result.data);
  }
  return values;
}

/** formatIssues joins a base path with `.`; "line 3.daily_active_users" reads better as "line 3: daily_active_users". */
function qualify(where: string): (issue: string) => string {
  return (issue) => (issue.startsWith(`${where}.`) ? `${where}: ${issue.slice(where.length + 1)}` : issue.startsWith(`${where}[`) ? `${where}: ${issue.slice(where.length)}` : issue);
}
