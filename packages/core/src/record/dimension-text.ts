/**
 * Limits on the text that goes into token_usage's conflict key. PostgreSQL
 * refuses a btree index entry above ~2,700 bytes ("index row size … exceeds
 * btree version 4 maximum"); with these limits the whole key stays under it,
 * and a poison value is refused with its field named instead of failing the
 * write with no field at all.
 */
export const DIMENSION_LIMITS = {
  /** source_instance, provider, model, account, api_key, user_id, line_item: UTF-8 bytes each. */
  textBytes: 256,
  labelCount: 32,
  labelKeyBytes: 64,
  labelValueBytes: 256,
  /** All labels together, as JSON. */
  labelsBytes: 1_024,
} as const;

/** bucket_start must fall in [2000-01-01, 2100-01-01): years 0000 or 10000 are typos or overflows. */
export const EARLIEST_BUCKET = new Date('2000-01-01T00:00:00Z');
export const LATEST_BUCKET_END = new Date('2100-01-01T00:00:00Z');

const encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` cannot be a dimension value (too long, a NUL, broken Unicode), or
 * undefined when it can. Never quotes the value: a dimension may be a key id or
 * a user name.
 */
export function dimensionTextProblem(text: string, maxBytes: number = DIMENSION_LIMITS.textBytes): string | undefined {
  if (text.length > maxBytes) return `is ${text.length} characters long; at most ${maxBytes} bytes of UTF-8 are allowed`;
  const bytes = text.length * 3 <= maxBytes ? 0 : encoder.encode(text).length;
  if (bytes > maxBytes) return `is ${bytes} bytes of UTF-8; at most ${maxBytes} are allowed`;
  if (text.includes('\0')) return 'must not contain a NUL character (PostgreSQL cannot store it)';
  if (text.includes('\uFFFD')) return 'is not valid UTF-8 (it holds U+FFFD, the mark of undecodable bytes)';
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode (a lone surrogate)';
  return undefined;
}

/** Why a labels object cannot be stored, naming the label (by key, when the key itself is fine), or undefined. */
export function labelsProblem(labels: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(labels);
  if (entries.length > DIMENSION_LIMITS.labelCount) return `has ${entries.length} labels; at most ${DIMENSION_LIMITS.labelCount} are allowed`;
  for (const [key, value] of entries) {
    const keyProblem = dimensionTextProblem(key, DIMENSION_LIMITS.labelKeyBytes);
    if (keyProblem) return `a label key ${keyProblem}`;
    const valueProblem = dimensionTextProblem(value, DIMENSION_LIMITS.labelValueBytes);
    if (valueProblem) return `the value of label ${JSON.stringify(key)} ${valueProblem}`;
  }
  const json = entries.length === 0 ? '{}' : JSON.stringify(labels);
  // A UTF-16 unit is at most 3 bytes of UTF-8: short labels need no encoding to be measured.
  const total = json.length * 3 <= DIMENSION_LIMITS.labelsBytes ? json.length : encoder.encode(json).length;
  if (total > DIMENSION_LIMITS.labelsBytes) return `are ${total} bytes as JSON; at most ${DIMENSION_LIMITS.labelsBytes} are allowed`;
  return undefined;
}

/** Why a bucket_start is out of range, or undefined. */
export function bucketRangeProblem(date: Date): string | undefined {
  if (date < EARLIEST_BUCKET || date >= LATEST_BUCKET_END) {
    return `${Number.isNaN(date.getTime()) ? 'invalid date' : date.toISOString()} is outside the supported range (years 2000 to 2099)`;
  }
  return undefined;
}
