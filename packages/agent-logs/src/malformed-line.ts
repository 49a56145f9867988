/** A line (or a whole document) that could not be read, named by file and line. */
export type MalformedLine = {
  readonly file: string;
  /** 1-based; 0 for a whole JSON document. */
  readonly line: number;
  readonly reason: string;
};

/** At most this many locations are kept per cycle; the count is always exact. */
export const MAX_REPORTED_MALFORMED = 20;
