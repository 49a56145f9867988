import { parseDuration } from '@utt/core';

/** The forms a date flag accepts, named in every refusal. */
export const ACCEPTED_DATE_FORMS =
  'YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] (UTC unless an offset is given), today, yesterday, or Nd / Nh (that long before now, e.g. 7d)';

/**
 * `2026-10-01` is UTC midnight; a date-time without an offset is UTC too, so
 * the same command means the same window on every machine. `today` and
 * `yesterday` are UTC midnights; `7d` and `12h` count back from now (or
 * `--now`). Anything else — `10/01/2026`, `October 1, 2026`, which JavaScript
 * would read in the machine's local time zone — is refused.
 */
export function parseTimeFlag(flag: string, value: string | undefined, now: Date = new Date(), command?: string): Date | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const midnight = (days: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days));
  if (text === 'today') return midnight(0);
  if (text === 'yesterday') return midnight(1);
  const relative = /^(\d+)(d|h)$/.exec(text);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * (relative[2] === 'd' ? 86_400_000 : 3_600_000));
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  const date = iso ? new Date(iso[4] === undefined ? `${text}T00:00:00Z` : iso[7] === undefined ? `${text}Z` : text) : undefined;
  // Date accepts 2026-02-31 as March 3rd: a day that does not exist is refused too.
  if (!date || Number.isNaN(date.getTime()) || (iso && date.toISOString().slice(0, 10) !== `${iso[1]}-${iso[2]}-${iso[3]}` && iso[7] === undefined)) {
    throw new UsageError(`--${flag}: "${value}" is not a date utt reads; use ${ACCEPTED_DATE_FORMS}`, command);
  }
  return date;
}

/** A duration flag (`--interval 15m`): a unit is required, "5" alone is refused. */
export function parseDurationFlag(flag: string, value: string | undefined, command?: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`, command);
  }
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
