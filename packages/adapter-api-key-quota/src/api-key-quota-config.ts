import { z } from '@utt/core';

const account = z.string().min(1, 'required: an alias, email or organisation id (never the key)');
const key = z.string().min(1, 'required (use ${ENV_VAR}: keys come from the environment)');

const common = {
  account,
  /** Make a minimal model call to read the rate-limit headers (spends a request and a few tokens). Off: only the free checks. */
  probe: z.boolean().default(false),
  /** The model of the minimal call. */
  model: z.string().min(1).optional(),
  /** For tests and gateways. */
  baseUrl: z.url().optional(),
};

const keySchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('anthropic'), key, ...common }),
  z.strictObject({ provider: z.literal('openai'), key, ...common }),
  z.strictObject({ provider: z.literal('xai'), key, ...common }),
  z.strictObject({ provider: z.literal('gemini'), key, ...common }),
  z.strictObject({ provider: z.literal('openrouter'), key, account, baseUrl: z.url().optional() }),
  z.strictObject({ provider: z.literal('deepseek'), key, account, baseUrl: z.url().optional() }),
  /**
   * Any endpoint (a gateway, a proxy): one request, its rate-limit headers read
   * in the given style, and the per-call cost from `costHeader` (seed 002's
   * Exedev-Gateway-Cost).
   */
  z.strictObject({
    provider: z.literal('generic'),
    /** The provider name the readings carry. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, ".", "_", "-"'),
    account,
    url: z.url(),
    method: z.enum(['GET', 'POST']).default('POST'),
    key: key.optional(),
    /** Where the key goes: `authorization` (Bearer) or `x-api-key`. */
    keyHeader: z.enum(['authorization', 'x-api-key']).default('authorization'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.unknown().optional(),
    headerStyle: z.enum(['anthropic', 'openai', 'none']).default('none'),
    costHeader: z.string().min(1).optional(),
  }),
]);

/** The `config:` block of an api-key-quota source. */
export const apiKeyQuotaConfigSchema = z.strictObject({
  keys: z.array(keySchema).min(1, 'list at least one key'),
  /** Probes (model calls) at most this often per key; free checks run every time. Default 20 minutes. */
  probeIntervalSeconds: z.number().int().min(60).default(1200),
});

export type ApiKeyQuotaConfig = z.output<typeof apiKeyQuotaConfigSchema>;
export type ApiKeyQuotaConfigInput = z.input<typeof apiKeyQuotaConfigSchema>;
export type ApiKeyConfig = ApiKeyQuotaConfig['keys'][number];
