import { GRANULARITIES, parseDuration, z } from '@utt/core';

const durationSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const rateSchema = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number')]);

const tokenPriceSchema = z.strictObject({
  input: rateSchema.optional(),
  output: rateSchema.optional(),
  cacheRead: rateSchema.optional(),
  cacheWrite: rateSchema.optional(),
  cacheWrite1h: rateSchema.optional(),
});

const sourceSchema = z.strictObject({
  /** Unique; keys the watermark and status rows and is the default source_instance. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
  /** A package name (`@utt/adapter-openai-usage`, `utt-adapter-foo`) or a path to a module. */
  adapter: z.string().min(1, 'required'),
  enabled: z.boolean().default(true),
  /** Configured but not operating: reported, never called stale (invariant 9). */
  paused: z.boolean().default(false),
  granularity: z.enum(GRANULARITIES).optional(),
  /** source_instance for records that do not set one; defaults to `name`. */
  instance: z.string().optional(),
  maxBackfill: durationSchema.optional(),
  settle: durationSchema.optional(),
  staleAfter: durationSchema.optional(),
  config: z.unknown().default({}),
});

export const workerConfigSchema = z.strictObject({
  database: z
    .strictObject({
      url: z.string().optional(),
      schema: z.string().default('utt'),
      /** Folder of the embedded PGlite database, used when no url is set. */
      path: z.string().default('.utt/pglite'),
    })
    .prefault({}),
  worker: z
    .strictObject({
      interval: durationSchema.default(15 * 60_000),
      httpDeadline: durationSchema.default(15_000),
      httpRetryBudget: durationSchema.default(60_000),
      maxBackfill: durationSchema.default(24 * 3_600_000),
      settle: durationSchema.default(3_600_000),
      staleAfter: durationSchema.default(3_600_000),
    })
    .prefault({}),
  pricing: z.record(z.string(), tokenPriceSchema).default({}),
  sources: z
    .array(sourceSchema)
    .default([])
    .superRefine((sources, context) => {
      const seen = new Set<string>();
      sources.forEach((source, index) => {
        if (seen.has(source.name)) {
          context.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate source name "${source.name}"` });
        }
        seen.add(source.name);
      });
    }),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
export type SourceConfig = WorkerConfig['sources'][number];
