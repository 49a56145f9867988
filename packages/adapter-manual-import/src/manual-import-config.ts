import { z } from '@utt/core';

/** The `config` block of a manual-import source. Strict: an unknown key is an error. */
export const manualImportConfigSchema = z
  .strictObject({
  /** Files to import; relative paths resolve against the config file's folder (the working directory outside the worker). */
  files: z.array(z.string().min(1, 'must not be empty')).default([]),
  /**
   * JSON Lines files of quota readings (utt's reading shape, or token-monitor's
   * `utilization_5h`/`utilization_7d` log lines), imported as quota history;
   * relative paths resolve like files.
   */
  quotaFiles: z.array(z.string().min(1, 'must not be empty')).optional(),
  /**
   * Files of what a provider billed (an invoice or a console's cost export in
   * provider_cost's columns: bucket_start as a UTC day, provider, line_item,
   * amount_usd, optional account, model, currency), set against the usage
   * computed from `files` by `utt report --reconcile` and the dashboard.
   */
  costFiles: z.array(z.string().min(1, 'must not be empty')).optional(),
  /** Import the good rows and log the bad ones, instead of failing the source at the first bad row. */
  skipInvalid: z.boolean().default(false),
  /** source_instance for every file's records; default: each file's base name. */
  instance: z.string().min(1, 'must not be empty').optional(),
})
  .refine((config) => config.files.length > 0 || (config.quotaFiles?.length ?? 0) > 0 || (config.costFiles?.length ?? 0) > 0, {
    message: 'list at least one file',
    path: ['files'],
  });

export type ManualImportConfig = z.output<typeof manualImportConfigSchema>;
