const MINUTE = 60;
const HOUR = 3_600;
const DAY = 86_400;

/**
 * Names a window by its duration, never by a provider's position
 * (`primary`/`secondary` swapped meaning across Codex versions): 18000 s →
 * `5h`, 604800 s → `7d`, 28–31 days → `month`, 60 s → `1m`; other lengths get
 * their own name (`90m`, `3d`). A scope (a model) is appended: `7d_sonnet`.
 */
export function classifyQuotaWindow(seconds: number | null | undefined, scope?: string | null): string {
  let name: string;
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) name = 'unknown';
  else if (near(seconds, 5 * HOUR)) name = '5h';
  else if (near(seconds, 7 * DAY)) name = '7d';
  else if (seconds >= 28 * DAY && seconds <= 31 * DAY) name = 'month';
  else if (near(seconds, DAY)) name = '1d';
  else if (near(seconds, MINUTE)) name = '1m';
  else if (seconds % DAY === 0) name = `${seconds / DAY}d`;
  else if (seconds % HOUR === 0) name = `${seconds / HOUR}h`;
  else if (seconds % MINUTE === 0) name = `${seconds / MINUTE}m`;
  else name = `${Math.round(seconds)}s`;
  const suffix = scope ? scopeSuffix(scope) : '';
  return suffix ? `${name}_${suffix}` : name;
}

/** `Claude Opus 4` → `claude_opus_4`: a window-name-safe scope. */
export function scopeSuffix(scope: string): string {
  return scope
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

// Providers round (a "5-hour" window reported as 299 or 301 minutes): 2 % slack.
function near(seconds: number, target: number): boolean {
  return Math.abs(seconds - target) <= target * 0.02;
}
