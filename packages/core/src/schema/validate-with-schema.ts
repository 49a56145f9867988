import type { StandardSchemaV1 } from '@standard-schema/spec';
import { formatIssues } from './format-issues';

export type SchemaValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: string[] };

/**
 * Validates through the Standard Schema interface, so a schema built with
 * another copy or version of zod (or another library) still works.
 */
export async function validateWithSchema<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  basePath = '',
): Promise<SchemaValidationResult<T>> {
  const result = await schema['~standard'].validate(value);
  if (result.issues) return { ok: false, issues: formatIssues(result.issues, basePath) };
  return { ok: true, value: result.value };
}
