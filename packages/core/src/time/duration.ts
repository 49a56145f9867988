const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration such as `15s`, `90m`, `24h`, `2d` or `1h30m` into
 * milliseconds. Text needs a unit (`"5"` is refused); a number, from code,
 * is milliseconds.
 */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new RangeError(`invalid duration ${text}`);
    return text;
  }
  const trimmed = text.trim();
  // A bare number is refused: "5" meant minutes to the person who wrote it and milliseconds to the code.
  if (/^\d+(\.\d+)?$/.test(trimmed)) throw new RangeError(`invalid duration "${text}": give a unit (ms, s, m, h, d or w), e.g. ${trimmed}m or ${trimmed}s`);
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new RangeError(`invalid duration "${text}" (use forms like 15s, 30m, 24h, 2d)`);
  }
  return total;
}
