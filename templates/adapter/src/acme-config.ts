import { z } from '@utt/core';

// Strict: a typo in the user's config is an error, not a silently ignored key.
export const acmeConfigSchema = z.strictObject({
  /** The key itself. In utt.config.yaml write `apiKey: "${ACME_API_KEY}"`: the worker fills it from the environment. */
  apiKey: z.string().min(1),
  baseUrl: z.url().default('https://api.acme.example/v1'),
});

export type AcmeConfig = z.output<typeof acmeConfigSchema>;
