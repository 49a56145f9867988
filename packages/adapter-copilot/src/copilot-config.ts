import { z } from '@utt/core';

/** GitHub organisation, enterprise and user names: letters, digits and single hyphens. */
const slugSchema = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/, 'expected a GitHub organisation or enterprise slug such as "my-org"');

const factorSchema = z.number().int('expected a whole number of tokens').nonnegative('must not be negative').max(1_000_000, 'too large');

/**
 * Opt-in token estimate. No Copilot endpoint reports tokens, so token columns
 * stay NULL unless the operator states how many tokens an interaction or an
 * accepted line is worth; rows filled this way say `derived_estimate`.
 */
const estimateTokensSchema = z
  .strictObject({
    /** Input tokens per user-initiated interaction (prompt plus context sent). */
    inputPerInteraction: factorSchema.optional(),
    /** Output tokens per user-initiated interaction. */
    outputPerInteraction: factorSchema.optional(),
    /** Output tokens per line of code accepted (loc_added_sum). */
    outputPerAcceptedLine: factorSchema.optional(),
  })
  .refine(
    (estimate) => Object.values(estimate).some((value) => value !== undefined),
    'set at least one of inputPerInteraction, outputPerInteraction, outputPerAcceptedLine (or leave estimateTokens out)',
  );

const reportsSchema = z
  .strictObject({
    /** The daily usage-metrics report (activity figures, interactions per model and feature). */
    usageMetrics: z.boolean().default(true),
    /** Billing: premium requests per model and day, with dollars. */
    premiumRequests: z.boolean().default(true),
    /** Billing: AI credits per model and day, with dollars (credit billing since 2026-06). */
    aiCredits: z.boolean().default(true),
  })
  .refine((reports) => reports.usageMetrics || reports.premiumRequests || reports.aiCredits, 'enable at least one report');

export const copilotConfigSchema = z
  .strictObject({
    /** The organisation whose Copilot usage is read. Exactly one of org and enterprise. */
    org: slugSchema.optional(),
    /** The enterprise whose Copilot usage is read (enterprise-level endpoints). */
    enterprise: slugSchema.optional(),
    /** A GitHub token, usually `${GITHUB_TOKEN}`; sent only in the Authorization header. */
    token: z.string({ error: 'required: a GitHub token, e.g. token: "${GITHUB_TOKEN}"' }).trim().min(1, 'must not be empty (is the environment variable set?)'),
    /** For GitHub Enterprise Server-style proxies and tests. */
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.github.com' })
      .default('https://api.github.com')
      .transform((url) => url.replace(/\/+$/, '')),
    /** Sent as X-GitHub-Api-Version. */
    apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as 2026-03-10').default('2026-03-10'),
    reports: reportsSchema.prefault({}),
    estimateTokens: estimateTokensSchema.optional(),
  })
  .superRefine((config, context) => {
    if ((config.org === undefined) === (config.enterprise === undefined)) {
      context.addIssue({ code: 'custom', path: ['org'], message: 'set exactly one of org and enterprise' });
    }
  });

/** The config as written in YAML or passed in code. */
export type CopilotConfigInput = z.input<typeof copilotConfigSchema>;

/** The validated config, defaults applied. */
export type CopilotConfig = z.output<typeof copilotConfigSchema>;

export type CopilotTokenEstimate = NonNullable<CopilotConfig['estimateTokens']>;

/** Which account the endpoints address: `orgs/my-org` or `enterprises/acme`. */
export type CopilotScope = { readonly kind: 'organization' | 'enterprise'; readonly slug: string };

export function scopeOf(config: CopilotConfig): CopilotScope {
  return config.org !== undefined ? { kind: 'organization', slug: config.org } : { kind: 'enterprise', slug: config.enterprise as string };
}
