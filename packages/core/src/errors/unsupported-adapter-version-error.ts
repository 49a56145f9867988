import { UttError } from './utt-error';

const NAME = 'UTT_UnsupportedAdapterVersionError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** An adapter built for a contract version this copy of utt does not know. */
export class UnsupportedAdapterVersionError extends UttError {
  private readonly [SYMBOL] = true;
  readonly packageName: string;
  readonly version: string;

  constructor(options: { packageName: string; version: string; supported: readonly string[] }) {
    super({
      name: NAME,
      message: `${options.packageName} implements adapter specification ${options.version}; this utt supports ${options.supported.join(', ')}`,
    });
    this.packageName = options.packageName;
    this.version = options.version;
  }

  static override isInstance(error: unknown): error is UnsupportedAdapterVersionError {
    return UttError.carries(error, MARKER);
  }
}
