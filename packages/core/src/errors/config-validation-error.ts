import { UttError } from './utt-error';

const NAME = 'UTT_ConfigValidationError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/**
 * Configuration that does not validate. Each issue names its path
 * (`sources[2].config.adminKey: required`) and never echoes the value.
 */
export class ConfigValidationError extends UttError {
  private readonly [SYMBOL] = true;
  readonly issues: readonly string[];
  readonly file: string | undefined;

  constructor(options: { issues: readonly string[]; file?: string; cause?: unknown }) {
    const where = options.file ? ` in ${options.file}` : '';
    super({
      name: NAME,
      message: `invalid configuration${where}:\n  ${options.issues.join('\n  ')}`,
      cause: options.cause,
    });
    this.issues = options.issues;
    this.file = options.file;
  }

  static override isInstance(error: unknown): error is ConfigValidationError {
    return UttError.carries(error, MARKER);
  }
}
