const BASE_MARKER = 'utt.error';
// A module-level const initialised with Symbol.for() is typed `unique symbol`,
// which TypeScript requires for a computed class-field key.
const BASE_SYMBOL = Symbol.for(BASE_MARKER);

/**
 * The base of every error utt throws. Checks go through `isInstance()` and a
 * `Symbol.for` marker rather than `instanceof`, so they hold when an
 * application ends up with two copies of `@utt/core`.
 */
export class UttError extends Error {
  private readonly [BASE_SYMBOL] = true;

  constructor(options: { name: string; message: string; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name;
  }

  static isInstance(error: unknown): error is UttError {
    return UttError.carries(error, BASE_MARKER);
  }

  protected static carries(error: unknown, marker: string): boolean {
    if (typeof error !== 'object' || error === null) return false;
    return (error as Record<symbol, unknown>)[Symbol.for(marker)] === true;
  }
}
