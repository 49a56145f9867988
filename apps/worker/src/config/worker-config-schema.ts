import { GRANULARITIES, parseDuration, z } from '@utt/core';
import { priceOverrideSchema } from '@utt/pricing/override-schema';
import { budgetConfigSchema, reportingTimeZoneSchema, threadBudgetConfigSchema } from '@utt/tracker/budget-config';
import { alertsConfigSchema, quotaConfigSchema } from './quota-config-schema';

const durationSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  if (typeof value === 'number') {
    context.addIssue({ code: 'custom', message: `a duration needs a unit: write ${value}m, ${value}s or ${value}ms (units: ms, s, m, h, d, w)` });
    return z.NEVER;
  }
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1_000, mb: 1_000_000, gb: 1_000_000_000, kib: 1_024, mib: 1_048_576, gib: 1_073_741_824 };

/** A size in bytes: a number, or `64MiB`, `500kb`, `1 GB`. */
const sizeSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  const match = typeof value === 'number' ? [String(value), String(value), 'b'] : /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[(match?.[2] || 'b').toLowerCase()];
  const bytes = match && unit ? Math.round(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    context.addIssue({ code: 'custom', message: 'must be a size such as 64MiB, 500KB or a number of bytes' });
    return z.NEVER;
  }
  return bytes;
});

/**
 * `pricing:` — overrides keyed `provider/model` or `model`, a local prices file
 * and where `utt prices update` fetches. Entries written directly under
 * `pricing:` (the original shape) are overrides too.
 */
const pricingSchema = z
  .object({
    /** The local prices file: read when present, written by `utt prices update` (relative to the config file's folder). */
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

export const sourceSchema = z.strictObject({
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
  /** Overrides worker.sourceTimeBudget for this source. */
  timeBudget: durationSchema.optional(),
  config: z.unknown().default({}),
});

export const workerConfigSchema = z.strictObject({
  database: z
    .strictObject({
      url: z.string().optional(),
      schema: z.string().default('utt'),
      /** Folder of the embedded PGlite database, used when no url is set (relative to the config file's folder). */
      path: z.string().default('.utt/pglite'),
      /** PostgreSQL only; defaults in @utt/postgres DEFAULT_STORE_TIMEOUTS (15s, 5m, 1m, 5m). */
      connectTimeout: durationSchema.optional(),
      statementTimeout: durationSchema.optional(),
      lockTimeout: durationSchema.optional(),
      idleInTransactionTimeout: durationSchema.optional(),
      /** Embedded PGlite only: how long a command waits for another process using the folder. Default 10m. */
      lockWait: durationSchema.optional(),
    })
    .prefault({}),
  worker: z
    .strictObject({
      interval: durationSchema.default(15 * 60_000),
      httpDeadline: durationSchema.default(15_000),
      httpRetryBudget: durationSchema.default(60_000),
      /** Largest response body of one HTTP call; a larger one fails the source, without retry. */
      httpMaxResponseSize: sizeSchema.default(64 * 1_048_576),
      /** How long one source may collect in one cycle, all its calls together; then it fails and the next source runs. */
      sourceTimeBudget: durationSchema.default(15 * 60_000),
      maxBackfill: durationSchema.default(24 * 3_600_000),
      settle: durationSchema.default(3_600_000),
      staleAfter: durationSchema.default(3_600_000),
    })
    .prefault({}),
  pricing: pricingSchema.prefault({}),
  /** USD budgets (day, month, per call) read by `utt budget` and by @utt/tracker in process. */
  budgets: z.array(budgetConfigSchema).default([]),
  /** The installation's one reporting time zone (IANA): budget periods, and days, months and timestamps on every dashboard page. */
  reportingTimeZone: reportingTimeZoneSchema,
  /** @utt/tracker's per-thread token limit (seed 004), read in process with the budgets; `utt` itself does not use it. */
  threadBudget: threadBudgetConfigSchema.optional(),
  quota: quotaConfigSchema,
  alerts: alertsConfigSchema,
  /** `utt serve`: the web dashboard. */
  dashboard: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(8787),
      /** Host names (Host header) answered besides the loopback names, e.g. the name a reverse proxy uses. */
      allowedHosts: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
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
