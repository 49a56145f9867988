/**
 * Where the scan of one file stopped, kept in the source's state: the next
 * cycle reads only bytes appended after `offset`.
 */
export type FileCursor = {
  /** Device and inode: a different identity at the same path is a new file (rotation). */
  readonly dev: number;
  readonly ino: number;
  /** Size and mtime when last read: both unchanged means nothing to read. */
  readonly size: number;
  readonly mtimeMs: number;
  /** Byte offset just after the last complete line consumed. */
  readonly offset: number;
  /** Complete lines consumed so far (line numbers in reports continue from it). */
  readonly lines: number;
  /** The first bytes of the file (up to 64) as `count:hash`: a file rewritten in place with new content no longer matches. */
  readonly head: string;
  /**
   * The 64 bytes before `offset` as `count:hash`, when the offset is past
   * the head: a file overwritten in place whose first bytes are the same
   * (every Claude Code transcript begins alike) no longer matches. Absent in
   * cursors of earlier versions.
   */
  readonly tail?: string;
  /** The adapter's per-file parse state (Codex: the previous cumulative totals and the current model). */
  readonly carry?: unknown;
};

export const HEAD_BYTES = 64;
export const TAIL_BYTES = 64;
