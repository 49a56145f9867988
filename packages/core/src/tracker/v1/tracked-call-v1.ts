/** Where the token counts of a tracked call came from. */
export type UsageOriginV1 =
  /** The provider's response body (non-streamed). */
  | 'response'
  /** The final usage of a stream (OpenAI's include_usage chunk, Anthropic's message_delta, …). */
  | 'stream'
  /** The application passed the totals itself (`tracker.record`). */
  | 'manual'
  /** The call happened but no usage arrived (a stream cut short, include_usage off): counts stay NULL. */
  | 'unknown';

/**
 * One provider call captured in process, as the tracker hands it to a sink.
 * Token fields follow the record's non-overlapping semantics (see
 * usageRecordSchema): input excludes cache reads and writes, output includes
 * reasoning, cachedWrite1h is the 1-hour part of cachedWrite; null means the
 * provider did not report it.
 */
export type TrackedCallV1 = {
  readonly specificationVersion: 'v1';
  /** A client-generated UUID: replaying the same batch writes nothing twice. */
  readonly eventId: string;
  /** The application (token_usage.source_system). */
  readonly sourceSystem: string;
  /** The service or host (token_usage.source_instance). */
  readonly sourceInstance: string;
  /** When the call was sent: it is priced at this time and lands in this UTC hour. */
  readonly occurredAt: Date;
  readonly provider: string;
  /** The model as the response names it (the request's name when the response has none). */
  readonly model: string;
  /** chat.completions, responses, embeddings, messages, … ('' when unknown). */
  readonly operation: string;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedReadTokens: number | null;
  readonly cachedWriteTokens: number | null;
  readonly cachedWrite1hTokens: number | null;
  readonly reasoningTokens: number | null;
  readonly webSearches: number | null;
  /** The service tier / pricing mode the response reports (batch, flex, priority), '' for standard or unreported. */
  readonly serviceTier: string;
  readonly latencyMs: number | null;
  readonly streaming: boolean;
  /** The provider's response id; a second call with the same id is the same call (a retried record). */
  readonly responseId: string | null;
  readonly threadId: string | null;
  readonly agentId: string | null;
  /** Every tag of the call (scoped, default and explicit). */
  readonly tags: Readonly<Record<string, string>>;
  /** The tags chosen as token_usage dimensions (plus service_tier when not standard). */
  readonly labels: Readonly<Record<string, string>>;
  readonly usageOrigin: UsageOriginV1;
  /** Exact decimal USD, or null when unpriced. */
  readonly costUsd: string | null;
  readonly priceRef: string | null;
  /** Why costUsd is null on a call with tokens (no_price, missing_rate:…, usage_unknown). */
  readonly unpricedReason: string | null;
};
