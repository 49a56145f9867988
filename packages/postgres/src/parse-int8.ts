/** The PostgreSQL type id of BIGINT (int8). */
export const INT8_TYPE_ID = 20;

/**
 * BIGINT arrives as text. Token counts and row counts are far below 2^53, so a
 * JS number holds them exactly and callers need no BigInt handling; core
 * refuses any count above Number.MAX_SAFE_INTEGER before it gets here.
 */
export function parseInt8(text: string): number {
  return Number(text);
}
