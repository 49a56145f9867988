import { z } from '@utt/core';

/** The `config` block of a manual-import source. Strict: an unknown key is an error. */
export const manualImportConfigSchema = z.strictObject({
  /** Files to import; relative paths resolve against the config file's folder (the working directory outside the worker). */
  files: z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one file'),
  /** Import the good rows and log the bad ones, instead of failing the source at the first bad row. */
  skipInvalid: z.boolean().default(false),
  /** source_instance for every file's records; default: each file's base name. */
  instance: z.string().min(1, 'must not be empty').optional(),
});

export type ManualImportConfig = z.output<typeof manualImportConfigSchema>;
