import type { CapturedLogLine } from '../create-capturing-logger';

/**
 * Every string reachable from a value: own properties, array items, map and
 * set entries, and an error's name, message, stack and cause (which are not
 * enumerable). Used to look for a secret wherever it could hide.
 */
export function stringsWithin(value: unknown, depth = 12, seen: Set<object> = new Set()): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'symbol') {
    return [String(value)];
  }
  if (typeof value === 'function') return [value.name];
  if (typeof value !== 'object' || value === null || depth < 0 || seen.has(value)) return [];
  seen.add(value);
  const strings: string[] = [];
  const walk = (inner: unknown) => {
    for (const text of stringsWithin(inner, depth - 1, seen)) strings.push(text);
  };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? [] : [value.toISOString()];
  if (value instanceof Error) {
    strings.push(value.name, value.message, value.stack ?? '');
    walk(value.cause);
    if (value instanceof AggregateError) walk(value.errors);
  }
  if (value instanceof Map || value instanceof Set) {
    for (const entry of value) walk(entry);
  }
  for (const key of Object.keys(value)) {
    strings.push(key);
    walk((value as Record<string, unknown>)[key]);
  }
  return strings;
}

export function logLineStrings(line: CapturedLogLine): string[] {
  return [line.level, line.message, ...stringsWithin(line.fields)];
}
