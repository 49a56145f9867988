import { agentLogConfigSchema } from '@utt/agent-logs';
import { z } from '@utt/core';

/** `config.quota`: the ChatGPT plan's Codex limits. */
export const codexQuotaConfigSchema = z
  .strictObject({
    /** Read `rate_limits` from the newest rollout files (no network). */
    logs: z.boolean().default(true),
    /** Also read GET /backend-api/wham/usage with the token in auth.json (a network call, no model call). */
    usageEndpoint: z.boolean().default(false),
    /** Codex's auth file; default `${CODEX_HOME:-~/.codex}/auth.json`. */
    authFile: z.string().min(1).optional(),
    /** The account id to record; default auth.json's `tokens.account_id`, else the source instance. */
    account: z.string().min(1).optional(),
    baseUrl: z.url().default('https://chatgpt.com'),
    /** At most one endpoint call per this many seconds. */
    minIntervalSeconds: z.number().int().min(60, 'must be at least 60').default(300),
  })
  .prefault({});

/** The `config:` block of a codex source (see the README's Configuration table). */
export const codexConfigSchema = agentLogConfigSchema.extend({ quota: codexQuotaConfigSchema });
export type CodexConfigInput = z.input<typeof codexConfigSchema>;
export type CodexConfig = z.output<typeof codexConfigSchema>;
