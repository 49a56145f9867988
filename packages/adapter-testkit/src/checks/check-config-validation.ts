import { validateWithSchema } from '@utt/core';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

/** Planted in wrong-typed config values; a validation message must never repeat it. */
export const CONFIG_VALUE_MARKER = 'utt-conformance-VALUE-MARKER-5e2b';
const UNKNOWN_KEY = 'uttConformanceUnknownKey';

/**
 * Config validation is strict and readable: the given config is accepted;
 * `{}` (when rejected), a wrong-typed value and an unknown key are rejected
 * with issues that each name a path; no issue repeats the value it refused
 * (nor a canary secret from the rest of the config).
 */
export async function checkConfigValidation(
  options: Pick<UsageAdapterConformanceOptions, 'adapter' | 'config' | 'canarySecrets' | 'http'>,
): Promise<string[]> {
  const schema = options.adapter?.configSchema;
  if (typeof schema?.['~standard']?.validate !== 'function') return ['configSchema is not a Standard Schema'];
  const hidden = [CONFIG_VALUE_MARKER, ...(options.canarySecrets ?? [])];
  const problems: string[] = [];

  const accepted = await validateWithSchema(schema, options.config);
  if (!accepted.ok) problems.push(`the given config is rejected: ${accepted.issues.join('; ')}`);
  if (options.http) {
    const fromBaseUrl = await validateWithSchema(schema, options.http.configForBaseUrl('http://127.0.0.1:9'));
    if (!fromBaseUrl.ok) problems.push(`http.configForBaseUrl() gives a config that is rejected: ${fromBaseUrl.issues.join('; ')}`);
  }

  /** `named`: text the issue may name instead of a path (an unknown key is reported on the object holding it). */
  const readable = (label: string, issues: readonly StandardIssue[], named?: string) => {
    if (issues.length === 0) problems.push(`${label}: rejected without any issue`);
    for (const issue of issues) {
      const path = issue.path ?? [];
      if (path.length === 0 && !(named && issue.message.includes(named))) {
        problems.push(`${label}: the issue "${issue.message}" names no path`);
      }
      if (issue.message.trim() === '') problems.push(`${label}: an issue has an empty message`);
      if (hidden.some((value) => issue.message.includes(value))) {
        problems.push(`${label}: the issue at ${formatPath(path)} repeats a configured value`);
      }
    }
  };

  const empty = await schema['~standard'].validate({});
  if (empty.issues) readable('{}', empty.issues);

  const config = options.config;
  if (isPlainObject(config) && Object.keys(config).length > 0) {
    let rejectedWrongTypes = 0;
    for (const [key, value] of Object.entries(config)) {
      const result = await schema['~standard'].validate({ ...config, [key]: wrongTypeFor(value) });
      if (result.issues) {
        rejectedWrongTypes++;
        readable(`a wrong-typed ${key}`, result.issues);
      }
    }
    if (rejectedWrongTypes === 0) {
      problems.push(`no wrong-typed value was rejected (tried ${Object.keys(config).join(', ')}): is the schema too loose?`);
    }
    const unknown = await schema['~standard'].validate({ ...config, [UNKNOWN_KEY]: CONFIG_VALUE_MARKER });
    if (unknown.issues) readable('an unknown key', unknown.issues, UNKNOWN_KEY);
    else problems.push(`an unknown key (${UNKNOWN_KEY}) is accepted: config schemas should be strict, so a typo is an error`);
  } else {
    const result = await schema['~standard'].validate(CONFIG_VALUE_MARKER);
    if (!result.issues) problems.push('a string in place of the config object is accepted');
    else if (result.issues.some((issue) => issue.message.includes(CONFIG_VALUE_MARKER))) {
      problems.push('the issue for a string in place of the config object repeats the value');
    }
  }
  return problems;
}

type StandardIssue = { readonly message: string; readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined };

/** A value of another type than `value`, carrying the marker where it can. */
function wrongTypeFor(value: unknown): unknown {
  if (typeof value === 'string') return { marker: CONFIG_VALUE_MARKER };
  return CONFIG_VALUE_MARKER;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function formatPath(path: readonly (PropertyKey | { readonly key: PropertyKey })[]): string {
  return path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || '(root)';
}
