import type { TrackedCallV1, UsageOriginV1 } from '@utt/core';

/** One provider call, as subscribers receive it and the sink stores it. */
export type TrackedCall = TrackedCallV1 & {
  /** Rate-limit response headers (x-ratelimit-*, anthropic-ratelimit-*, retry-after) for a quota monitor. */
  readonly rateLimitHeaders?: Readonly<Record<string, string>>;
  /** The provider's request id header (x-request-id, request-id), when the response had one. */
  readonly requestId?: string | null;
};

export type UsageOrigin = UsageOriginV1;

/**
 * What `tracker.record()` takes: known totals of one provider call, in the
 * core's non-overlapping buckets. Leave a count out (or null) when the
 * provider did not report it; 0 means it reported zero.
 */
export type CallUsage = {
  readonly provider: string;
  readonly model: string;
  readonly operation?: string;
  /** Input not read from or written to a cache. */
  readonly inputTokens?: number | null;
  /** All output, reasoning included. */
  readonly outputTokens?: number | null;
  readonly cachedReadTokens?: number | null;
  /** All cache writes; cachedWrite1hTokens is the 1-hour-TTL part of them. */
  readonly cachedWriteTokens?: number | null;
  readonly cachedWrite1hTokens?: number | null;
  readonly reasoningTokens?: number | null;
  readonly webSearches?: number | null;
  readonly serviceTier?: string | null;
  readonly latencyMs?: number | null;
  readonly streaming?: boolean;
  readonly responseId?: string | null;
  readonly requestId?: string | null;
  readonly threadId?: string | null;
  readonly agentId?: string | null;
  /** Tags for this call only; they win over scoped and default tags. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Default 'manual'. */
  readonly usageOrigin?: UsageOrigin;
  /**
   * Leaves the call unpriced with this reason: a bucket it was charged for
   * could not be rebuilt from what the provider reported (its count stays
   * NULL), so a price of the other buckets would be too low.
   */
  readonly unpricedReason?: string | null;
  /** When the call was sent (default now): its price and its hour. */
  readonly occurredAt?: Date;
  readonly rateLimitHeaders?: Readonly<Record<string, string>>;
};
