/**
 * `2026-10-01` is UTC midnight; a date-time without an offset is UTC too, so
 * the same command means the same window on every machine.
 */
export function parseTimeFlag(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  let text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text)) text += 'Z';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${flag}: "${value}" is not an ISO 8601 date or date-time`);
  return date;
}

/** A mistake in the command line itself (exit code 1, with usage help). */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** @param command the command whose `--help` the message points to (default: the global help). */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
