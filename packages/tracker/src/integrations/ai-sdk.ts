import { forgetAbandonable, recordWhenAbandoned } from '../capture/abandoned-calls';
import { type AiSdkUsage, aiSdkServiceTier, aiSdkUsageBuckets, vendorOf } from '../capture/ai-sdk-usage';
import { NO_USAGE, isObject } from '../capture/usage-buckets';
import { pickRateLimitHeaders } from '../capture/rate-limit-headers';
import { estimateInputTokens } from '../capture/prompt-size';
import { type CallTicket, TRACKER_INTERNALS, type Tracker, type TrackerInternals } from '../create-tracker';
import type { CallScope } from '../tracker-context';
import type { CallUsage, UsageOrigin } from '../tracked-call';

export type UttMiddlewareOptions<Version extends 'v2' | 'v3' = 'v3'> = {
  /**
   * Which middleware spec to speak: 'v3' for `ai` 6 (default), 'v2' for `ai` 5.
   * The usage shape is detected per call either way.
   */
  readonly specificationVersion?: Version;
  /** Provider name for the ledger (default: the vendor of the model's provider id, e.g. 'openai'). */
  readonly provider?: string;
  readonly tags?: Readonly<Record<string, string>>;
};

// The AI SDK's own types are not imported, so @utt/tracker needs no `ai` at
// build time; these are the fields the middleware reads.
type Model = { readonly provider: string; readonly modelId: string };
type CallOptions = { readonly maxOutputTokens?: number; readonly providerOptions?: Record<string, unknown>; readonly prompt?: unknown; readonly tools?: unknown };
type Result = { usage?: unknown; providerMetadata?: unknown; response?: { id?: string; modelId?: string; headers?: Record<string, string> } };
type StreamPart = { readonly type: string };
type StreamResult = { stream: ReadableStream<StreamPart>; response?: { headers?: Record<string, string> } };
// Generic in the SDK's own result types, so the middleware fits LanguageModelV2/V3Middleware without importing them.
type WrapArguments<G extends Result, S extends StreamResult> = { doGenerate: () => PromiseLike<G>; doStream: () => PromiseLike<S>; params: CallOptions; model: Model };

/**
 * Language-model middleware for the Vercel AI SDK: every provider call (each
 * step of generateText/streamText) is recorded, tags come from the scope and
 * from `providerOptions.utt`, budgets are checked before the call is sent.
 *
 * ```ts
 * const model = wrapLanguageModel({ model: openai('gpt-4o-mini'), middleware: uttMiddleware(tracker) });
 * ```
 */
export function uttMiddleware<Version extends 'v2' | 'v3' = 'v3'>(tracker: Tracker, options: UttMiddlewareOptions<Version> = {}) {
  const version = (options.specificationVersion ?? 'v3') as Version;
  const internals = (tracker as Tracker & { [TRACKER_INTERNALS]?: TrackerInternals })[TRACKER_INTERNALS];
  // The prompt is measured only when a budget will read it.
  const admit = (call: ReturnType<typeof facts>, model: Model, params: CallOptions) =>
    tracker.admit({
      provider: call.provider,
      model: model.modelId,
      maxOutputTokens: params.maxOutputTokens ?? null,
      inputTokens: internals === undefined || internals.needsAdmission(internals.scope()) ? estimateInputTokens(params.prompt, params.tools) : null,
      tags: call.tags,
    });
  const facts = (model: Model, params: CallOptions) => {
    const vendor = vendorOf(model.provider);
    const utt = params.providerOptions?.utt;
    const callTags = isObject(utt) ? (Object.fromEntries(Object.entries(utt).filter(([, value]) => typeof value === 'string')) as Record<string, string>) : undefined;
    // The scope of the caller, taken now: a stream's end is read in whatever async context consumes it.
    const scope: CallScope | undefined = internals?.scope();
    return { vendor, provider: options.provider ?? vendor, tags: { ...options.tags, ...callTags }, scope };
  };

  const record = (
    call: ReturnType<typeof facts>,
    model: Model,
    ticket: CallTicket,
    started: number,
    streaming: boolean,
    outcome: { usage?: unknown; providerMetadata?: unknown; responseId?: string; modelId?: string; headers?: Record<string, string> } | undefined,
  ) => {
    const buckets: AiSdkUsage = outcome?.usage === undefined ? { ...NO_USAGE } : aiSdkUsageBuckets(model.provider, outcome.usage, outcome.providerMetadata);
    const known = buckets.inputTokens !== null || buckets.outputTokens !== null;
    const origin: UsageOrigin = known ? (streaming ? 'stream' : 'response') : 'unknown';
    const raw = isObject(outcome?.usage) ? (outcome.usage as { raw?: unknown }).raw : undefined;
    const usage: CallUsage = {
      provider: call.provider,
      model: outcome?.modelId ?? model.modelId,
      operation: streaming ? 'ai-sdk.stream' : 'ai-sdk.generate',
      ...buckets,
      serviceTier: aiSdkServiceTier(call.vendor, outcome?.providerMetadata, raw),
      latencyMs: Date.now() - started,
      streaming,
      responseId: outcome?.responseId ?? null,
      usageOrigin: origin,
      occurredAt: new Date(started),
      tags: call.tags,
      rateLimitHeaders: pickRateLimitHeaders(outcome?.headers),
    };
    if (internals) internals.record(usage, ticket, call.scope);
    else tracker.record(usage, ticket);
  };

  return {
    specificationVersion: version,
    ...(version === 'v2' ? { middlewareVersion: 'v2' as const } : {}),
    async wrapGenerate<G extends Result, S extends StreamResult>({ doGenerate, params, model }: WrapArguments<G, S>): Promise<G> {
      const call = facts(model, params);
      const ticket = await admit(call, model, params);
      const started = Date.now();
      let result: G;
      try {
        result = await doGenerate();
      } catch (error) {
        ticket.release();
        throw error;
      }
      record(call, model, ticket, started, false, {
        usage: result.usage,
        providerMetadata: result.providerMetadata,
        responseId: result.response?.id,
        modelId: result.response?.modelId,
        headers: result.response?.headers,
      });
      return result;
    },
    async wrapStream<G extends Result, S extends StreamResult>({ doStream, params, model }: WrapArguments<G, S>): Promise<S> {
      const call = facts(model, params);
      const ticket = await admit(call, model, params);
      const started = Date.now();
      let result: S;
      try {
        result = await doStream();
      } catch (error) {
        ticket.release();
        throw error;
      }
      let responseId: string | undefined;
      let modelId: string | undefined;
      let finish: { usage?: unknown; providerMetadata?: unknown } | undefined;
      let recorded = false;
      const end = () => {
        if (recorded) return;
        recorded = true;
        record(call, model, ticket, started, true, finish ? { ...finish, responseId, modelId, headers: result.response?.headers } : { responseId, modelId, headers: result.response?.headers });
      };
      const reader = result.stream.getReader();
      // A stream dropped unread (never read to its end nor cancelled), garbage collected: recorded with usage 'unknown',
      // its budget hold given back, the provider's stream cancelled.
      const abandonable = {
        abandon() {
          reader.cancel().catch(() => {});
          end();
        },
      };
      const stream = new ReadableStream<StreamPart>({
        async pull(controller) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            forgetAbandonable(abandonable);
            end();
            controller.error(error);
            return;
          }
          if (next.done) {
            forgetAbandonable(abandonable);
            try {
              end();
            } catch (error) {
              controller.error(error);
              return;
            }
            controller.close();
            return;
          }
          const part = next.value as StreamPart & Record<string, unknown>;
          if (part.type === 'response-metadata') {
            if (typeof part.id === 'string') responseId = part.id;
            if (typeof part.modelId === 'string') modelId = part.modelId;
          } else if (part.type === 'finish') {
            finish = { usage: part.usage, providerMetadata: part.providerMetadata };
          }
          controller.enqueue(part);
        },
        async cancel(reason) {
          forgetAbandonable(abandonable);
          try {
            end();
          } finally {
            await reader.cancel(reason);
          }
        },
      });
      recordWhenAbandoned(stream, abandonable, abandonable);
      return { ...result, stream } as S;
    },
  };
}

