import type { StandardSchemaV1 } from '@standard-schema/spec';

/** `sources[2].config.adminKey` from a base path and an issue path. */
export function formatIssuePath(base: string, path: StandardSchemaV1.Issue['path']): string {
  let text = base;
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

/** Readable one-line issues, each naming its path; values are never echoed. */
export function formatIssues(issues: readonly StandardSchemaV1.Issue[], base = ''): string[] {
  return issues.map((issue) => {
    const path = formatIssuePath(base, issue.path);
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
}
