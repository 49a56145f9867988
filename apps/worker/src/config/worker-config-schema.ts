import { GRANULARITIES, parseDuration, z } from '@utt/core';
import { priceOverrideSchema } from '@utt/pricing';

const durationSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * `pricing:` — overrides keyed `provider/model` or `model`, a local prices file
 * and where `utt prices update` fetches. Entries written directly under
 * `pricing:` (the original shape) are overrides too.
 */
const pricingSchema = z
  .object({
    /** The local prices file: read when present, written by `utt prices update` (relative to the working directory). */
    file: z.string().min(1).default('.utt/prices.json'),
    /** genai-prices data.json (or a mirror) for `utt prices update`. */
    updateUrl: z.url().optional(),
    /** `utt prices check` flags a prices file older than this. */
    maxAge: durationSchema.default(30 * 86_400_000),
    overrides: z.record(z.string(), priceOverrideSchema).default({}),
  })
  .catchall(priceOverrideSchema)
  .transform(({ file, updateUrl, maxAge, overrides, ...direct }, context) => {
    for (const key of Object.keys(direct)) {
      if (key in overrides) context.addIssue({ code: 'custom', path: [key], message: `also under pricing.overrides; keep one` });
    }
    return { file, updateUrl, maxAge, overrides: { ...direct, ...overrides } };
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
      /** PostgreSQL only; defaults in @utt/postgres DEFAULT_STORE_TIMEOUTS (15s, 5m, 1m, 5m). */
      connectTimeout: durationSchema.optional(),
      statementTimeout: durationSchema.optional(),
      lockTimeout: durationSchema.optional(),
      idleInTransactionTimeout: durationSchema.optional(),
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
  pricing: pricingSchema.prefault({}),
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
