import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { homeDirectory } from '@utt/agent-logs';
import { classifyQuotaWindow, type QuotaReadingV1, type UsageAdapterV1Context } from '@utt/core';
import type { ClaudeCodeConfig } from './claude-code-config';

const FIVE_MINUTES_MS = 5 * 60_000;
const DEADLINE_MS = 30_000;

type Credentials = { accessToken: string; expiresAt: number | null; plan: string | null };
type Gate = { nextCallAt: number; account?: string };

/** `$CLAUDE_CONFIG_DIR/.credentials.json`, else `~/.claude/.credentials.json`. */
export function claudeCredentialsFile(env: Readonly<Record<string, string | undefined>>): string {
  const configured = (env.CLAUDE_CONFIG_DIR ?? '').split(',')[0]?.trim();
  return configured ? path.join(configured, '.credentials.json') : path.join(homeDirectory(env), '.claude', '.credentials.json');
}

/**
 * Claude subscription quota from the OAuth usage endpoint, which reads the
 * 5-hour and weekly windows without a model call (a probe would open a new
 * 5-hour window on an idle account). The token is Claude Code's, read fresh
 * each time and never refreshed here (a third-party refresh rotates it and
 * logs the CLI out): an expired one is `auth_required`. One call per account
 * per 5 minutes; a 429 without Retry-After blocks the account for 5 minutes.
 * While gated nothing is returned, so the last good reading stays the latest
 * and turns stale on its own.
 */
export async function collectClaudeQuota(context: UsageAdapterV1Context<ClaudeCodeConfig>): Promise<QuotaReadingV1[]> {
  const config = context.config.quota;
  if (!config.usageEndpoint) return [];
  const now = context.now();
  const file = config.credentialsFile ?? claudeCredentialsFile(context.env);
  const statusOnly = (account: string, detail: string): QuotaReadingV1[] => [
    { provider: 'anthropic', account, window: 'account', windowSeconds: null, usedRatio: null, status: 'auth_required', obtainedVia: 'endpoint', observedAt: now, detail },
  ];

  const credentials = await readCredentials(file);
  const knownAccount = config.account ?? (await signedInAccount(context.env));
  if (credentials === 'missing') return statusOnly(knownAccount ?? 'claude-code', `not signed in to Claude Code (no claudeAiOauth in ${file})`);
  if (credentials.expiresAt !== null && credentials.expiresAt <= now.getTime()) {
    return statusOnly(knownAccount ?? 'claude-code', 'the Claude Code token has expired; run claude once to refresh it (utt never refreshes it)');
  }

  // The gate is keyed by a hash of the token: one per account, and the token never reaches the state table.
  // node:crypto is loaded here, not with the adapter: it costs every run a few ms at start (about 50 M
  // instructions), and only a run that reads the quota endpoint hashes anything (bench/startup, issue-12r).
  const { createHash } = await import('node:crypto');
  const gateKey = `claude-oauth/${createHash('sha256').update(credentials.accessToken).digest('hex').slice(0, 16)}`;
  const gate = context.state?.get(gateKey) as Gate | undefined;
  if (gate && now.getTime() < gate.nextCallAt) {
    context.logger.info('claude usage endpoint: waiting for its call gate; the last reading stands', { nextCallAt: new Date(gate.nextCallAt).toISOString() });
    return [];
  }
  const headers = {
    authorization: `Bearer ${credentials.accessToken}`,
    'anthropic-beta': 'oauth-2025-04-20',
    accept: 'application/json',
    'content-type': 'application/json',
    'user-agent': 'claude-code/2.1.0 (utt)',
  };
  const call = (route: string) =>
    context.fetch(new URL(route, config.baseUrl), { headers, signal: AbortSignal.any([context.signal, AbortSignal.timeout(DEADLINE_MS)]) });

  let account = knownAccount ?? gate?.account;
  const setGate = (waitMs: number) => context.state?.set(gateKey, { nextCallAt: now.getTime() + waitMs, ...(account ? { account } : {}) } satisfies Gate);

  const response = await call('/api/oauth/usage');
  if (response.status === 401) {
    await response.body?.cancel();
    setGate(config.minIntervalSeconds * 1000);
    return statusOnly(account ?? 'claude-code', 'the usage endpoint refused the token (401); sign in again with claude');
  }
  if (response.status === 403) {
    await response.body?.cancel();
    setGate(config.minIntervalSeconds * 1000);
    return statusOnly(account ?? 'claude-code', 'the token lacks the user:profile scope (403): an inference-only token (setup-token) cannot read usage');
  }
  if (response.status === 429) {
    await response.body?.cancel();
    const retryAfter = retryAfterMs(response.headers.get('retry-after'), now);
    setGate(Math.max(retryAfter ?? FIVE_MINUTES_MS, FIVE_MINUTES_MS));
    context.logger.warn('claude usage endpoint answered 429; backing off, the last reading stands (stale)', {
      retryAfterSeconds: Math.round(Math.max(retryAfter ?? FIVE_MINUTES_MS, FIVE_MINUTES_MS) / 1000),
    });
    return [];
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`claude usage endpoint answered HTTP ${response.status}`);
  }
  const body = (await response.json()) as unknown;
  if (!account) account = await profileAccount(call);
  setGate(config.minIntervalSeconds * 1000);
  return claudeUsageReadings(body, { account: account ?? 'claude-code', observedAt: now, plan: credentials.plan });
}

type Window = { utilization?: unknown; resets_at?: unknown } | null | undefined;

/** The usage endpoint's body as readings: flat `five_hour`/`seven_day*` keys, the newer `limits[]`, and extra usage (cents). */
export function claudeUsageReadings(body: unknown, options: { account: string; observedAt: Date; plan?: string | null }): QuotaReadingV1[] {
  if (typeof body !== 'object' || body === null) throw new Error('claude usage endpoint: the body is not a JSON object');
  const record = body as Record<string, unknown>;
  const readings = new Map<string, QuotaReadingV1>();
  const add = (window: string, seconds: number, value: Window, source: string) => {
    if (value === null || value === undefined || typeof value !== 'object' || readings.has(window)) return;
    const percent = toNumber(value.utilization);
    const resetsAt = typeof value.resets_at === 'string' ? new Date(value.resets_at) : null;
    const valid = resetsAt !== null && !Number.isNaN(resetsAt.getTime()) ? resetsAt : null;
    readings.set(window, {
      provider: 'anthropic',
      account: options.account,
      window,
      windowSeconds: seconds,
      usedRatio: percent === null ? null : percent / 100,
      rawValue: percent,
      rawUnit: 'percent',
      resetsAt: valid,
      status: percent === null ? 'unknown' : percent >= 100 ? 'rejected' : 'allowed',
      obtainedVia: 'endpoint',
      observedAt: options.observedAt,
      detail: [options.plan ? `plan ${options.plan}` : null, valid === null ? 'no window running' : null, source].filter(Boolean).join('; ') || null,
    });
  };
  add('5h', 18_000, record.five_hour as Window, '');
  add('7d', 604_800, record.seven_day as Window, '');
  for (const [key, value] of Object.entries(record)) {
    const scoped = /^seven_day_(.+)$/.exec(key);
    if (scoped?.[1]) add(classifyQuotaWindow(604_800, scoped[1]), 604_800, value as Window, '');
  }
  if (Array.isArray(record.limits)) {
    for (const limit of record.limits as Record<string, unknown>[]) {
      const window = { utilization: limit.percent, resets_at: limit.resets_at };
      if (limit.kind === 'session') add('5h', 18_000, window, '');
      else if (limit.kind === 'weekly_all') add('7d', 604_800, window, '');
      else if (limit.kind === 'weekly_scoped') {
        const model = (limit.scope as { model?: { display_name?: unknown; id?: unknown } } | null)?.model;
        const name = typeof model?.display_name === 'string' ? model.display_name : typeof model?.id === 'string' ? model.id : 'scoped';
        add(classifyQuotaWindow(604_800, name), 604_800, window, 'model-scoped weekly limit');
      }
    }
  }
  const extra = record.extra_usage as Record<string, unknown> | null | undefined;
  const monthlyCents = toNumber(extra?.monthly_limit);
  if (extra && extra.is_enabled === true && monthlyCents !== null && monthlyCents > 0) {
    const usedCents = toNumber(extra.used_credits) ?? 0;
    readings.set('extra_month', {
      provider: 'anthropic',
      account: options.account,
      window: 'extra_month',
      windowSeconds: null,
      usedRatio: usedCents / monthlyCents,
      rawValue: usedCents / 100,
      rawUnit: typeof extra.currency === 'string' ? extra.currency.toLowerCase() : 'usd',
      limit: monthlyCents / 100,
      remaining: (monthlyCents - usedCents) / 100,
      resetsAt: null,
      status: usedCents >= monthlyCents ? 'rejected' : 'allowed',
      obtainedVia: 'endpoint',
      observedAt: options.observedAt,
      detail: 'extra usage (pay as you go), monthly cap',
    });
  }
  return [...readings.values()];
}

async function readCredentials(file: string): Promise<Credentials | 'missing'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new Error(`cannot read Claude Code's credentials file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the file: it holds tokens.
    throw new Error(`Claude Code's credentials file ${file} is not valid JSON`);
  }
  const oauth = (parsed as { claudeAiOauth?: Record<string, unknown> } | null)?.claudeAiOauth;
  if (!oauth || typeof oauth.accessToken !== 'string' || oauth.accessToken === '') return 'missing';
  return {
    accessToken: oauth.accessToken,
    expiresAt: typeof oauth.expiresAt === 'number' ? oauth.expiresAt : null,
    plan: typeof oauth.rateLimitTier === 'string' ? oauth.rateLimitTier : typeof oauth.subscriptionType === 'string' ? oauth.subscriptionType : null,
  };
}

/** The email (else organisation id) Claude Code is signed in with, from `.claude.json`: no call needed. */
export async function claudeSignedInAccount(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  return signedInAccount(env);
}

async function signedInAccount(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  const configured = (env.CLAUDE_CONFIG_DIR ?? '').split(',')[0]?.trim();
  const file = configured ? path.join(configured, '.claude.json') : path.join(homeDirectory(env), '.claude.json');
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { oauthAccount?: { emailAddress?: unknown; organizationUuid?: unknown } };
    const account = parsed.oauthAccount?.emailAddress ?? parsed.oauthAccount?.organizationUuid;
    return typeof account === 'string' && account !== '' ? account : undefined;
  } catch {
    return undefined;
  }
}

async function profileAccount(call: (route: string) => Promise<Response>): Promise<string | undefined> {
  try {
    const response = await call('/api/oauth/profile');
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const body = (await response.json()) as { account?: { email_address?: unknown }; organization?: { uuid?: unknown } };
    const account = body.account?.email_address ?? body.organization?.uuid;
    return typeof account === 'string' && account !== '' ? account : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}
