import { UttError } from '@utt/core';

const NAME = 'UTT_ImportFileError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * A usage file that cannot be imported: unreadable, of an unknown format, with
 * an unknown or missing column, or (unless invalid rows are skipped) with a bad
 * row. The message is `<file>:<line>: <field>: <reason>`, leaving out the parts
 * that do not apply, so an editor or a terminal can jump to the line.
 */
export class ImportFileError extends UttError {
  private readonly [SYMBOL] = true;
  /** The path as it was given. */
  readonly file: string;
  /** 1-based physical line, when the problem has one. */
  readonly line: number | undefined;
  /** The column concerned (`row` for a whole row), when there is one. */
  readonly field: string | undefined;
  /** What is wrong, without the location. */
  readonly reason: string;

  constructor(options: { file: string; line?: number; field?: string; reason: string; cause?: unknown }) {
    const line = options.line === undefined ? '' : `:${options.line}`;
    const field = options.field === undefined ? '' : `${options.field}: `;
    super({ name: NAME, message: `${options.file}${line}: ${field}${options.reason}`, cause: options.cause });
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is ImportFileError {
    return UttError.carries(error, MARKER);
  }
}
