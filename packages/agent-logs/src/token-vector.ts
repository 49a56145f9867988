/**
 * The counters of one event or one cell, in core's TOKEN_COLUMNS order:
 * input, output, cached_read, cached_write, cached_write_1h, reasoning,
 * requests. null = the log did not report it (never 0).
 */
export type TokenVector = [
  input: number | null,
  output: number | null,
  cachedRead: number | null,
  cachedWrite: number | null,
  cachedWrite1h: number | null,
  reasoning: number | null,
  requests: number | null,
];

export const TOKEN_VECTOR_LENGTH = 7;

/** Adds `from` into `into`; a column stays null only while every addend is null (as SQL SUM does). */
export function addTokenVector(into: TokenVector, from: readonly (number | null)[]): void {
  for (let index = 0; index < TOKEN_VECTOR_LENGTH; index += 1) {
    const value = from[index];
    if (value === null || value === undefined) continue;
    into[index] = (into[index] ?? 0) + value;
  }
}

export function emptyTokenVector(): TokenVector {
  return [null, null, null, null, null, null, null];
}

/** input + output + cache reads + cache writes: the size ccusage compares copies by. */
export function tokenTotal(vector: readonly (number | null)[]): number {
  return (vector[0] ?? 0) + (vector[1] ?? 0) + (vector[2] ?? 0) + (vector[3] ?? 0);
}

/** The counters as the ledger stores them: `t0,…,t6`, a null as nothing. */
export function formatTokenVector(vector: readonly (number | null)[]): string {
  // By hand: Array#join converting nulls cost more than the rest of a worker thread's encoding.
  return `${counterText(vector[0])},${counterText(vector[1])},${counterText(vector[2])},${counterText(vector[3])},${counterText(vector[4])},${counterText(vector[5])},${counterText(vector[6])}`;
}

function counterText(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : `${value}`;
}
