import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { defaultSourceInstance, homeDirectory } from '@utt/agent-logs';
import { classifyQuotaWindow, type QuotaReadingV1, type QuotaStatusV1, type UsageAdapterV1Context } from '@utt/core';
import type { CodexConfig } from './codex-config';
import { codexRoots } from './codex-paths';

const TAIL_BYTES = 1 << 20;
const NEWEST_FILES = 5;
const DEADLINE_MS = 30_000;

/**
 * Codex (ChatGPT plan) quota: the `rate_limits` of the newest `token_count`
 * event in the rollout files (no call at all), and optionally the ChatGPT
 * usage endpoint. Windows are named by length, never by `primary`/`secondary`
 * (the weekly window sat in `primary` for months in 2026).
 */
export async function collectCodexQuota(context: UsageAdapterV1Context<CodexConfig>): Promise<QuotaReadingV1[]> {
  const config = context.config.quota;
  const home = context.env.CODEX_HOME || path.join(homeDirectory(context.env), '.codex');
  const authFile = config.authFile ?? path.join(home, 'auth.json');
  const auth = await readAuth(authFile);
  const account = config.account ?? auth?.accountId ?? context.config.instance ?? defaultSourceInstance(context.env);
  const readings: QuotaReadingV1[] = [];
  if (config.logs) {
    const latest = await newestRateLimits(context.config.paths ?? codexRoots(context.env));
    if (latest) for (const reading of codexRateLimitReadings(latest.rateLimits, { account, observedAt: latest.timestamp, obtainedVia: 'log' })) readings.push(reading);
  }
  if (config.usageEndpoint) for (const reading of await usageEndpointReadings(context, auth, account, authFile)) readings.push(reading);
  return readings;
}

type Auth = { accessToken: string | null; accountId: string | null };

async function readAuth(file: string): Promise<Auth | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const tokens = (JSON.parse(text) as { tokens?: { access_token?: unknown; account_id?: unknown } }).tokens;
    return {
      accessToken: typeof tokens?.access_token === 'string' && tokens.access_token !== '' ? tokens.access_token : null,
      accountId: typeof tokens?.account_id === 'string' && tokens.account_id !== '' ? tokens.account_id : null,
    };
  } catch {
    throw new Error(`Codex's auth file ${file} is not valid JSON`);
  }
}

async function usageEndpointReadings(context: UsageAdapterV1Context<CodexConfig>, auth: Auth | null, account: string, authFile: string): Promise<QuotaReadingV1[]> {
  const config = context.config.quota;
  const now = context.now();
  const statusOnly = (detail: string): QuotaReadingV1[] => [
    { provider: 'openai', account, window: 'account', windowSeconds: null, usedRatio: null, status: 'auth_required', obtainedVia: 'endpoint', observedAt: now, detail },
  ];
  if (!auth?.accessToken) return statusOnly(`no ChatGPT sign-in in ${authFile} (an API-key-only login has no plan limits)`);
  const gateKey = `chatgpt-usage/${createHash('sha256').update(auth.accessToken).digest('hex').slice(0, 16)}`;
  const gate = context.state?.get(gateKey) as { nextCallAt: number } | undefined;
  if (gate && now.getTime() < gate.nextCallAt) return [];
  const setGate = (waitMs: number) => context.state?.set(gateKey, { nextCallAt: now.getTime() + waitMs });
  const route = config.baseUrl.includes('/backend-api') ? '/wham/usage' : '/backend-api/wham/usage';
  const response = await context.fetch(new URL(config.baseUrl.replace(/\/$/, '') + route), {
    headers: {
      authorization: `Bearer ${auth.accessToken}`,
      accept: 'application/json',
      ...(auth.accountId ? { 'chatgpt-account-id': auth.accountId } : {}),
    },
    signal: AbortSignal.any([context.signal, AbortSignal.timeout(DEADLINE_MS)]),
  });
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    setGate(config.minIntervalSeconds * 1000);
    return statusOnly(`the ChatGPT usage endpoint refused the token (${response.status}); sign in again with codex (utt never refreshes it)`);
  }
  if (response.status === 429) {
    await response.body?.cancel();
    const header = Number(response.headers.get('retry-after'));
    setGate(Math.max(Number.isFinite(header) && header > 0 ? header * 1000 : 5 * 60_000, 60_000));
    context.logger.warn('ChatGPT usage endpoint answered 429; backing off, the last reading stands (stale)');
    return [];
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`ChatGPT usage endpoint answered HTTP ${response.status}`);
  }
  const body = (await response.json()) as Record<string, unknown>;
  setGate(config.minIntervalSeconds * 1000);
  return chatgptUsageReadings(body, { account, observedAt: now });
}

type EndpointWindow = { used_percent?: unknown; limit_window_seconds?: unknown; reset_at?: unknown; reset_after_seconds?: unknown } | null | undefined;

/** The wham/usage body as readings: windows by `limit_window_seconds`, model-scoped ones from `additional_rate_limits`. */
export function chatgptUsageReadings(body: Record<string, unknown>, options: { account: string; observedAt: Date }): QuotaReadingV1[] {
  const readings: QuotaReadingV1[] = [];
  const seen = new Set<string>();
  const reached = body.rate_limit_reached_type !== null && body.rate_limit_reached_type !== undefined;
  const fromLimit = (limit: Record<string, unknown> | null | undefined, scope: string | null) => {
    if (!limit) return;
    const positions: [EndpointWindow, number][] = [
      [limit.primary_window as EndpointWindow, 18_000],
      [limit.secondary_window as EndpointWindow, 604_800],
    ];
    for (const [window, fallbackSeconds] of positions) {
      if (!window) continue;
      const seconds = toNumber(window.limit_window_seconds) ?? fallbackSeconds;
      const percent = toNumber(window.used_percent);
      const resetAt = toNumber(window.reset_at);
      const resetAfter = toNumber(window.reset_after_seconds);
      const name = classifyQuotaWindow(seconds, scope);
      if (seen.has(name)) continue;
      seen.add(name);
      readings.push({
        provider: 'openai',
        account: options.account,
        window: name,
        windowSeconds: seconds,
        usedRatio: percent === null ? null : percent / 100,
        rawValue: percent,
        rawUnit: 'percent',
        resetsAt: resetAt !== null ? new Date(resetAt * 1000) : resetAfter !== null ? new Date(options.observedAt.getTime() + resetAfter * 1000) : null,
        status: windowStatus(percent, limit.allowed === false || limit.limit_reached === true || reached),
        obtainedVia: 'endpoint',
        observedAt: options.observedAt,
        detail: typeof body.plan_type === 'string' ? `plan ${body.plan_type}` : null,
      });
    }
  };
  fromLimit(body.rate_limit as Record<string, unknown> | null, null);
  if (Array.isArray(body.additional_rate_limits)) {
    for (const extra of body.additional_rate_limits as Record<string, unknown>[]) {
      const scope = typeof extra.limit_name === 'string' ? extra.limit_name : typeof extra.metered_feature === 'string' ? extra.metered_feature : 'extra';
      fromLimit(extra.rate_limit as Record<string, unknown> | null, scope);
    }
  }
  return readings;
}

type LogWindow = { used_percent?: unknown; window_minutes?: unknown; resets_at?: unknown; resets_in_seconds?: unknown } | null | undefined;

/**
 * A `token_count` event's `rate_limits` in any of its three shapes: the flat
 * ≤ 0.40 one (`primary_used_percent`, `primary_window_minutes`, no reset), the
 * 0.41 one (`resets_in_seconds`, relative to the line's timestamp) and the
 * 2026 one (`resets_at`, Unix seconds, which wins when both are present).
 */
export function codexRateLimitReadings(
  rateLimits: Record<string, unknown>,
  options: { account: string; observedAt: Date; obtainedVia?: 'log' | 'piggyback' },
): QuotaReadingV1[] {
  const windows: [LogWindow, number][] = [];
  if ('primary_used_percent' in rateLimits || 'secondary_used_percent' in rateLimits) {
    for (const [position, fallback] of [
      ['primary', 300],
      ['secondary', 10_080],
    ] as const) {
      if (rateLimits[`${position}_used_percent`] === undefined || rateLimits[`${position}_used_percent`] === null) continue;
      windows.push([{ used_percent: rateLimits[`${position}_used_percent`], window_minutes: rateLimits[`${position}_window_minutes`] }, fallback]);
    }
  } else {
    windows.push([rateLimits.primary as LogWindow, 300], [rateLimits.secondary as LogWindow, 10_080]);
  }
  const reached = rateLimits.rate_limit_reached_type !== null && rateLimits.rate_limit_reached_type !== undefined;
  const readings: QuotaReadingV1[] = [];
  const seen = new Set<string>();
  for (const [window, fallbackMinutes] of windows) {
    if (!window || typeof window !== 'object') continue;
    const minutes = toNumber(window.window_minutes);
    const seconds = (minutes ?? fallbackMinutes) * 60;
    const name = classifyQuotaWindow(seconds);
    if (seen.has(name)) continue;
    seen.add(name);
    const percent = toNumber(window.used_percent);
    const resetsAt = toNumber(window.resets_at);
    const resetsIn = toNumber(window.resets_in_seconds);
    readings.push({
      provider: 'openai',
      account: options.account,
      window: name,
      windowSeconds: seconds,
      usedRatio: percent === null ? null : percent / 100,
      rawValue: percent,
      rawUnit: 'percent',
      resetsAt: resetsAt !== null ? new Date(resetsAt * 1000) : resetsIn !== null ? new Date(options.observedAt.getTime() + resetsIn * 1000) : null,
      status: windowStatus(percent, reached),
      obtainedVia: options.obtainedVia ?? 'log',
      observedAt: options.observedAt,
      detail: [typeof rateLimits.plan_type === 'string' ? `plan ${rateLimits.plan_type}` : null, minutes === null ? 'window length assumed from position' : null]
        .filter(Boolean)
        .join('; ') || null,
    });
  }
  return readings;
}

function windowStatus(percent: number | null, reached: boolean): QuotaStatusV1 {
  if (percent === null) return 'unknown';
  if (percent >= 100) return 'rejected';
  return reached ? 'warning' : 'allowed';
}

/** The latest non-null `rate_limits` in the newest rollout files (by modification time), read from their tails. */
async function newestRateLimits(roots: readonly string[]): Promise<{ rateLimits: Record<string, unknown>; timestamp: Date } | null> {
  const files: { file: string; mtimeMs: number }[] = [];
  for (const root of roots) await listJsonl(root, files, 0);
  files.sort((a, b) => b.mtimeMs - a.mtimeMs);
  let best: { rateLimits: Record<string, unknown>; timestamp: Date } | null = null;
  for (const { file } of files.slice(0, NEWEST_FILES)) {
    const found = await lastRateLimitsIn(file);
    if (found && (!best || found.timestamp > best.timestamp)) best = found;
  }
  return best;
}

async function listJsonl(directory: string, into: { file: string; mtimeMs: number }[], depth: number): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory() && depth < 4) await listJsonl(full, into, depth + 1);
    else if (entry.isFile() && entry.name.endsWith('.jsonl')) {
      try {
        into.push({ file: full, mtimeMs: (await stat(full)).mtimeMs });
      } catch {
        // Moved to archived_sessions between listing and stat: found there.
      }
    }
  }
}

async function lastRateLimitsIn(file: string): Promise<{ rateLimits: Record<string, unknown>; timestamp: Date } | null> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    for (let index = lines.length - 1; index >= 0; index -= 1) {
      const line = lines[index] as string;
      if (!line.includes('"rate_limits"')) continue;
      try {
        const parsed = JSON.parse(line) as { timestamp?: unknown; payload?: { type?: unknown; rate_limits?: unknown } };
        const rateLimits = parsed.payload?.rate_limits;
        const timestamp = typeof parsed.timestamp === 'string' ? new Date(parsed.timestamp) : null;
        if (parsed.payload?.type !== 'token_count' || !rateLimits || typeof rateLimits !== 'object' || !timestamp || Number.isNaN(timestamp.getTime())) continue;
        return { rateLimits: rateLimits as Record<string, unknown>, timestamp };
      } catch {
        // The first line of a tail can be cut; older complete lines follow.
      }
    }
    return null;
  } finally {
    await handle.close();
  }
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}
