import { z } from '@utt/core';

/** The public API, without the version path (as Anthropic's SDKs take it); `baseUrl` overrides it. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

/**
 * Optional grouping dimensions (usage is always grouped by model), and the
 * token_usage column each lands in.
 */
export const ANTHROPIC_GROUPINGS = ['api_key', 'workspace', 'service_tier', 'context_window', 'inference_geo'] as const;
export type AnthropicGrouping = (typeof ANTHROPIC_GROUPINGS)[number];

/** The `config` block of an Anthropic usage source. Strict: an unknown key is an error. */
export const anthropicUsageConfigSchema = z.strictObject({
  /** An Admin API key (sk-ant-admin…); in YAML usually "${ANTHROPIC_ADMIN_KEY}". Sent only in the x-api-key header. */
  adminKey: z.string({ error: 'expected the admin key as a string, e.g. "${ANTHROPIC_ADMIN_KEY}"' }).trim().min(1, 'must not be empty'),
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.anthropic.com' })
    .default(ANTHROPIC_DEFAULT_BASE_URL)
    .transform((url) => url.replace(/\/+$/, '')),
  /** The anthropic-version header. */
  anthropicVersion: z
    .string({ error: 'expected a date string such as "2023-06-01"' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as "2023-06-01"')
    .default(ANTHROPIC_DEFAULT_VERSION),
  /** Extra dimensions to group usage by; each makes more, finer rows. */
  groupBy: z
    .array(z.enum(ANTHROPIC_GROUPINGS, { error: `expected one of ${ANTHROPIC_GROUPINGS.join(', ')}` }))
    .refine((list) => new Set(list).size === list.length, 'lists a grouping twice')
    .default([]),
  /** Also read the cost report into provider_cost (billed vs computed). */
  costs: z.boolean().default(true),
});

/** The config as written in YAML or passed in code. */
export type AnthropicUsageConfigInput = z.input<typeof anthropicUsageConfigSchema>;
/** The validated config, defaults applied. */
export type AnthropicUsageConfig = z.output<typeof anthropicUsageConfigSchema>;
