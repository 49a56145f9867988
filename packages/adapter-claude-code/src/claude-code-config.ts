import { agentLogConfigSchema } from '@utt/agent-logs';
import { z } from '@utt/core';

/**
 * `config.quota`: the subscription's limits. The statusline feed (`utt
 * statusline`) needs nothing here; the OAuth usage endpoint is a network call,
 * so it is off until `usageEndpoint: true`.
 */
export const claudeQuotaConfigSchema = z
  .strictObject({
    /** Read the 5-hour and weekly windows from GET /api/oauth/usage (no model call, opens no window). */
    usageEndpoint: z.boolean().default(false),
    /** Claude Code's credentials file; default `$CLAUDE_CONFIG_DIR/.credentials.json`, else `~/.claude/.credentials.json`. */
    credentialsFile: z.string().min(1).optional(),
    /** The account id to record (an email or organisation id); default Claude Code's signed-in email from `.claude.json`, else the profile endpoint. */
    account: z.string().min(1).optional(),
    /** For tests and proxies. */
    baseUrl: z.url().default('https://api.anthropic.com'),
    /** At most one call per account per this many seconds (the endpoint rate-limits hard; never below 300). */
    minIntervalSeconds: z.number().int().min(300, 'must be at least 300 (the endpoint answers 429 to faster polling)').default(300),
  })
  .prefault({});

/** The `config:` block of a claude-code source (see the README's Configuration table). */
export const claudeCodeConfigSchema = agentLogConfigSchema.extend({ quota: claudeQuotaConfigSchema });
export type ClaudeCodeConfigInput = z.input<typeof claudeCodeConfigSchema>;
export type ClaudeCodeConfig = z.output<typeof claudeCodeConfigSchema>;
export type ClaudeQuotaConfig = z.output<typeof claudeQuotaConfigSchema>;
