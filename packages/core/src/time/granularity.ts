/** Bucket widths a token_usage row can have. All buckets are UTC. */
export const GRANULARITIES = ['hour', 'day', 'month'] as const;

export type Granularity = (typeof GRANULARITIES)[number];

export function isGranularity(value: unknown): value is Granularity {
  return typeof value === 'string' && (GRANULARITIES as readonly string[]).includes(value);
}
