import { createHash } from 'node:crypto';
import { defineAdapter, type QuotaReadingV1, quotaReadingsFromHeaders, type UsageAdapterV1Context } from '@utt/core';
import { type ApiKeyConfig, type ApiKeyQuotaConfig, apiKeyQuotaConfigSchema } from './api-key-quota-config';
import { geminiQuotaReadings } from './gemini-quota';

const DEADLINE_MS = 15_000;
const DEFAULT_BASE: Record<string, string> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com',
  xai: 'https://api.x.ai',
  gemini: 'https://generativelanguage.googleapis.com',
  openrouter: 'https://openrouter.ai',
  deepseek: 'https://api.deepseek.com',
};
const DEFAULT_MODEL: Record<string, string> = {
  anthropic: 'claude-haiku-4-5',
  openai: 'gpt-4o-mini',
  xai: 'grok-3-mini',
  gemini: 'gemini-2.5-flash',
};

type Context = UsageAdapterV1Context<ApiKeyQuotaConfig>;

/**
 * Quota of API keys. Free checks run every cycle (key validity, OpenRouter's
 * key limit, DeepSeek's balance); a minimal model call that returns the
 * rate-limit headers runs only for keys with `probe: true`, at most every
 * `probeIntervalSeconds`. It writes no usage rows.
 */
export const apiKeyQuotaAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'api-key-quota',
  sourceSystem: 'api_key_quota',
  configSchema: apiKeyQuotaConfigSchema,
  capabilities: {
    granularities: ['hour'],
    cacheTokens: 'none',
    costSource: 'none',
    measurementBasis: 'exact',
    maxBackfillDays: null,
    windowed: false,
  },
  async collect() {
    return [];
  },
  async collectQuota(context) {
    const readings: QuotaReadingV1[] = [];
    for (const key of context.config.keys) {
      for (const reading of await readKey(key, context)) readings.push(reading);
    }
    return readings;
  },
});

async function readKey(key: ApiKeyConfig, context: Context): Promise<QuotaReadingV1[]> {
  const now = context.now();
  const provider = key.provider === 'generic' ? key.name : key.provider === 'gemini' ? 'google' : key.provider;
  const invalid = (detail: string): QuotaReadingV1[] => [
    { provider, account: key.account, window: 'account', windowSeconds: null, usedRatio: null, status: 'invalid_key', obtainedVia: 'probe', observedAt: now, detail },
  ];
  const base = (('baseUrl' in key && key.baseUrl) || DEFAULT_BASE[key.provider] || '').replace(/\/$/, '');
  const call = (url: string, init: RequestInit = {}) =>
    context.fetch(url, { ...init, signal: AbortSignal.any([context.signal, AbortSignal.timeout(DEADLINE_MS)]) }).catch((error: unknown) => {
      // The URL can carry a key in a query string on some gateways: name only the provider.
      throw new Error(`${provider} (${key.account}): could not reach the API (${(error as Error).name === 'TimeoutError' ? 'timed out' : 'network error'})`);
    });

  if (key.provider === 'openrouter') {
    const response = await call(`${base}/api/v1/key`, { headers: { authorization: `Bearer ${key.key}` } });
    if (response.status === 401 || response.status === 403) return drain(response, invalid(`OpenRouter refused the key (${response.status})`));
    await ensureOk(response, provider, key.account);
    const data = ((await response.json()) as { data?: Record<string, unknown> }).data ?? {};
    const limit = numberOrNull(data.limit);
    const usage = numberOrNull(data.usage);
    const remaining = numberOrNull(data.limit_remaining);
    const reset = typeof data.limit_reset === 'string' ? data.limit_reset : null;
    const windowName = reset === 'monthly' ? 'month' : reset === 'weekly' ? '7d' : reset === 'daily' ? '1d' : 'credits';
    const used = limit !== null && remaining !== null ? limit - remaining : usage;
    return [
      {
        provider,
        account: key.account,
        window: windowName,
        windowSeconds: windowName === '7d' ? 604_800 : windowName === '1d' ? 86_400 : null,
        usedRatio: limit !== null && limit > 0 && used !== null ? used / limit : null,
        rawValue: used,
        rawUnit: 'usd',
        limit,
        remaining,
        status: remaining !== null && remaining <= 0 ? 'rejected' : 'allowed',
        obtainedVia: 'endpoint',
        observedAt: now,
        detail: limit === null ? 'no spending limit on this key' : null,
      },
    ];
  }

  if (key.provider === 'deepseek') {
    const response = await call(`${base}/user/balance`, { headers: { authorization: `Bearer ${key.key}`, accept: 'application/json' } });
    if (response.status === 401 || response.status === 403) return drain(response, invalid(`DeepSeek refused the key (${response.status})`));
    await ensureOk(response, provider, key.account);
    const body = (await response.json()) as { is_available?: unknown; balance_infos?: Array<Record<string, unknown>> };
    return (body.balance_infos ?? []).map((info) => ({
      provider,
      account: key.account,
      window: `balance_${String(info.currency ?? 'unknown').toLowerCase()}`,
      windowSeconds: null,
      usedRatio: null,
      rawValue: numberOrNull(info.total_balance),
      rawUnit: String(info.currency ?? 'unknown').toLowerCase(),
      remaining: numberOrNull(info.total_balance),
      status: body.is_available === false ? 'rejected' : 'allowed',
      obtainedVia: 'endpoint',
      observedAt: now,
      detail: body.is_available === false ? 'the balance cannot pay for calls' : null,
    }));
  }

  // The remaining providers need a model call for their limits: gated, opt-in.
  const probing = key.provider === 'generic' || key.probe;
  const gateKey = `probe/${createHash('sha256').update(`${provider}\n${key.account}\n${key.key ?? ''}`).digest('hex').slice(0, 16)}`;
  const gate = context.state?.get(gateKey) as { nextProbeAt: number } | undefined;
  if (probing && gate && now.getTime() < gate.nextProbeAt) return [];

  if (!probing) {
    // Free validity checks only.
    const path = key.provider === 'xai' ? '/v1/api-key' : key.provider === 'gemini' ? '/v1beta/models' : '/v1/models';
    const response = await call(`${base}${path}`, { headers: authHeaders(key) });
    if (response.status === 401 || response.status === 403 || (key.provider === 'gemini' && response.status === 400)) {
      return drain(response, invalid(`${provider} refused the key (${response.status})`));
    }
    await ensureOk(response, provider, key.account);
    const body = key.provider === 'xai' ? ((await response.json()) as Record<string, unknown>) : (await response.body?.cancel(), {});
    if (body.api_key_blocked === true || body.api_key_disabled === true || body.team_blocked === true) {
      return invalid(body.team_blocked === true ? 'the xAI team is blocked' : 'the xAI key is blocked or disabled');
    }
    return [
      { provider, account: key.account, window: 'account', windowSeconds: null, usedRatio: null, status: 'allowed', obtainedVia: 'probe', observedAt: now, detail: 'key valid; set probe: true to read its rate limits (a minimal call)' },
    ];
  }

  context.state?.set(gateKey, { nextProbeAt: now.getTime() + context.config.probeIntervalSeconds * 1000 });
  const request = probeRequest(key, base);
  const response = await call(request.url, request.init);
  if (response.status === 401 || response.status === 403) return drain(response, invalid(`${provider} refused the key (${response.status})`));
  if (key.provider === 'gemini') {
    const body = await response.text();
    if (response.status === 400 && /API_KEY_INVALID|API key not valid/.test(body)) return invalid('Gemini refused the key (400 API_KEY_INVALID)');
    if (response.status !== 429 && !response.ok) throw new Error(`google (${key.account}): HTTP ${response.status}`);
    return geminiQuotaReadings(response.status, body, { account: key.account, observedAt: now });
  }
  const style = key.provider === 'generic' ? key.headerStyle : key.provider === 'anthropic' ? 'anthropic' : 'openai';
  const readings: QuotaReadingV1[] =
    style === 'none'
      ? []
      : quotaReadingsFromHeaders(response.headers, {
          provider: style === 'anthropic' ? 'anthropic' : key.provider === 'xai' ? 'xai' : 'openai',
          account: key.account,
          observedAt: now,
          obtainedVia: 'probe',
          httpStatus: response.status,
        }).map((reading) => ({ ...reading, provider }));
  await response.body?.cancel();
  if (response.status !== 429 && !response.ok) throw new Error(`${provider} (${key.account}): the probe answered HTTP ${response.status}`);
  if (key.provider === 'generic' && key.costHeader) {
    const cost = numberOrNull(response.headers.get(key.costHeader));
    if (cost !== null) {
      readings.push({ provider, account: key.account, window: 'call_cost', windowSeconds: null, usedRatio: null, rawValue: cost, rawUnit: 'usd', status: 'allowed', obtainedVia: 'probe', observedAt: now, detail: `${key.costHeader} of the probe call` });
    }
  }
  if (readings.length === 0) {
    readings.push({ provider, account: key.account, window: 'account', windowSeconds: null, usedRatio: null, status: response.status === 429 ? 'rejected' : 'allowed', obtainedVia: 'probe', observedAt: now, detail: 'the response carried no rate-limit headers' });
  }
  return readings;
}

function authHeaders(key: Exclude<ApiKeyConfig, { provider: 'generic' }>): Record<string, string> {
  if (key.provider === 'anthropic') return { 'x-api-key': key.key, 'anthropic-version': '2023-06-01' };
  if (key.provider === 'gemini') return { 'x-goog-api-key': key.key };
  return { authorization: `Bearer ${key.key}` };
}

function probeRequest(key: ApiKeyConfig, base: string): { url: string; init: RequestInit } {
  const json = { 'content-type': 'application/json' };
  if (key.provider === 'generic') {
    const headers: Record<string, string> = { ...json, ...key.headers };
    if (key.key) headers[key.keyHeader] = key.keyHeader === 'authorization' ? `Bearer ${key.key}` : key.key;
    return { url: key.url, init: { method: key.method, headers, body: key.method === 'POST' ? JSON.stringify(key.body ?? {}) : undefined } };
  }
  if (key.provider === 'openrouter' || key.provider === 'deepseek') throw new Error('unreachable');
  const model = key.model ?? DEFAULT_MODEL[key.provider] ?? '';
  if (key.provider === 'anthropic') {
    return {
      url: `${base}/v1/messages`,
      init: { method: 'POST', headers: { ...json, ...authHeaders(key) }, body: JSON.stringify({ model, max_tokens: 1, messages: [{ role: 'user', content: '.' }] }) },
    };
  }
  if (key.provider === 'gemini') {
    return {
      url: `${base}/v1beta/models/${encodeURIComponent(model)}:generateContent`,
      init: { method: 'POST', headers: { ...json, ...authHeaders(key) }, body: JSON.stringify({ contents: [{ parts: [{ text: '.' }] }], generationConfig: { maxOutputTokens: 1 } }) },
    };
  }
  return {
    url: `${base}/v1/chat/completions`,
    init: { method: 'POST', headers: { ...json, ...authHeaders(key) }, body: JSON.stringify({ model, max_completion_tokens: 1, messages: [{ role: 'user', content: '.' }] }) },
  };
}

async function ensureOk(response: Response, provider: string, account: string): Promise<void> {
  if (response.ok) return;
  await response.body?.cancel();
  throw new Error(`${provider} (${account}): HTTP ${response.status}`);
}

async function drain<T>(response: Response, value: T): Promise<T> {
  await response.body?.cancel();
  return value;
}

function numberOrNull(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}
