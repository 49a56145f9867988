import { z } from '@utt/core';

/** The public API; `baseUrl` overrides it for proxies, regional endpoints and tests. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * Optional grouping dimensions (usage is always grouped by model), and the
 * token_usage column each lands in.
 */
export const OPENAI_GROUPINGS = ['project', 'api_key', 'user', 'batch', 'service_tier'] as const;
export type OpenaiGrouping = (typeof OPENAI_GROUPINGS)[number];

/** Usage endpoints that carry tokens or request counts. */
export const OPENAI_USAGE_ENDPOINTS = ['completions', 'embeddings', 'images', 'audio_speeches', 'audio_transcriptions'] as const;
export type OpenaiUsageEndpoint = (typeof OPENAI_USAGE_ENDPOINTS)[number];

const uniqueList = <T extends string>(values: readonly [T, ...T[]], what: string) =>
  z
    .array(z.enum(values, { error: `expected one of ${values.join(', ')}` }))
    .refine((list) => new Set(list).size === list.length, `lists a ${what} twice`);

/** The `config` block of an OpenAI usage source. Strict: an unknown key is an error. */
export const openaiUsageConfigSchema = z.strictObject({
  /** An organization Admin API key; in YAML usually "${OPENAI_ADMIN_KEY}". Sent only in the Authorization header. */
  adminKey: z.string({ error: 'expected the admin key as a string, e.g. "${OPENAI_ADMIN_KEY}"' }).trim().min(1, 'must not be empty'),
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.openai.com/v1' })
    .default(OPENAI_DEFAULT_BASE_URL)
    .transform((url) => url.replace(/\/+$/, '')),
  /** Extra dimensions to group usage by; each makes more, finer rows. */
  groupBy: uniqueList(OPENAI_GROUPINGS, 'grouping').default([]),
  /** Which usage endpoints to read. */
  endpoints: uniqueList(OPENAI_USAGE_ENDPOINTS, 'endpoint').min(1, 'list at least one endpoint').default(['completions', 'embeddings']),
  /** Only these projects (the API's project_ids filter); default all. */
  projectIds: z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one project or leave projectIds out').optional(),
  /** Also read the Costs API into provider_cost (billed vs computed). */
  costs: z.boolean().default(true),
});

/** The config as written in YAML or passed in code. */
export type OpenaiUsageConfigInput = z.input<typeof openaiUsageConfigSchema>;
/** The validated config, defaults applied. */
export type OpenaiUsageConfig = z.output<typeof openaiUsageConfigSchema>;
