/**
 * Milliseconds to wait from a Retry-After header: delta-seconds or an
 * HTTP-date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null | undefined, now: Date = new Date()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
