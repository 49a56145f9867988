import type { UsageEvent } from './usage-event';

/** What a parser sees of the file it is reading. */
export type TranscriptFile = {
  readonly path: string;
  /** The adapter's per-file state, persisted with the file's cursor (for example Codex's previous totals). */
  carry: unknown;
  /** Hands one response to the ledger. */
  readonly emit: (event: UsageEvent) => void;
};

/**
 * How one agent's files are read. A parser throws on a line it cannot read;
 * the scan counts it with its file and line and goes on.
 */
export type TranscriptFormat = {
  /** Which discovered files belong to this agent. */
  readonly accept: (file: string) => boolean;
  /**
   * 'lines': JSONL, appended to; read incrementally from the last complete line.
   * 'document': one JSON document rewritten in place; read whole when it changes.
   */
  readonly layout: (file: string) => 'lines' | 'document';
  /**
   * Lines without this text cannot matter and are not decoded (Claude Code:
   * `"usage"`, as ccusage also filters). They are not checked for being
   * well formed either: only lines that could carry usage are.
   */
  readonly lineMustContain?: string;
  readonly parseLine?: (line: string, file: TranscriptFile) => void;
  /**
   * parseLine for a line still in the read buffer: `bytes[start, end)`, its
   * newline (and carriage return) left out. Used instead of parseLine when
   * given, so a line is never decoded whole: a transcript line is mostly
   * content the parser skips. The buffer is reused once the call returns:
   * copy whatever is kept (decoded strings are copies).
   */
  readonly parseLineBytes?: (bytes: Buffer, start: number, end: number, file: TranscriptFile) => void;
  /**
   * Where a worker thread can build this same format: a module URL (the
   * adapter's own `import.meta.url`) and the name of the factory it exports.
   * Without it a scan stays on one thread.
   */
  readonly workerModule?: { readonly url: string; readonly exportName: string };
  readonly parseDocument?: (text: string, file: TranscriptFile) => void;
};
