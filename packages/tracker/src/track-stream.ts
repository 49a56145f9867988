import { anthropicUsageBuckets, createAnthropicStreamState } from './capture/anthropic-usage';
import { googleUsageBuckets } from './capture/google-usage';
import { createOpenAIStreamState, openAIUsageBuckets } from './capture/openai-usage';
import { isObject, NO_USAGE, type UsageBuckets } from './capture/usage-buckets';
import { type CallTicket, TRACKER_INTERNALS, type Tracker, type TrackerInternals } from './create-tracker';
import type { CallUsage, TrackedCall } from './tracked-call';

export type StreamDialect = 'openai' | 'anthropic' | 'google';

export type TrackStreamOptions = Omit<CallUsage, 'usageOrigin' | 'streaming' | 'latencyMs' | 'occurredAt'> & {
  /** How to read events passed to `event()` (default from the provider: anthropic, google, else openai). */
  readonly dialect?: StreamDialect;
  /** A budget admission from `tracker.admit()`, released when the stream ends. */
  readonly ticket?: CallTicket;
};

/** Collects a stream's usage for a client the tracker does not wrap. */
export type StreamUsageCollector = {
  /** One stream event: the SSE `data:` text, or the parsed event object. */
  event(event: string | object): void;
  /** Totals the client already knows (overrides what the events said). */
  usage(totals: Omit<CallUsage, 'provider' | 'model'>): void;
  /** The stream ended: records the call (usage origin 'stream', or 'unknown' without usage). */
  end(): TrackedCall;
  /** The stream was cut: records what is known with usage origin 'unknown'. */
  abort(): TrackedCall;
};

/**
 * The fallback for clients no integration covers (seed 003's track_stream):
 *
 * ```ts
 * const collector = trackStream(tracker, { provider: 'openai', model: 'gpt-4o-mini' });
 * for await (const chunk of myClient.stream(request)) collector.event(chunk);
 * collector.end();
 * ```
 */
export function trackStream(tracker: Tracker, options: TrackStreamOptions): StreamUsageCollector {
  const dialect: StreamDialect = options.dialect ?? (options.provider === 'anthropic' ? 'anthropic' : options.provider === 'google' || options.provider === 'gemini' ? 'google' : 'openai');
  const started = Date.now();
  // The scope (and function default tags) of where the stream started, not of wherever it ends.
  const internals = (tracker as Tracker & { [TRACKER_INTERNALS]?: TrackerInternals })[TRACKER_INTERNALS];
  const context = internals?.scope();
  const openai = createOpenAIStreamState();
  const anthropic = createAnthropicStreamState();
  let googleUsage: unknown;
  let googleModel: string | null = null;
  let googleId: string | null = null;
  let explicit: Omit<CallUsage, 'provider' | 'model'> | undefined;
  let done: TrackedCall | undefined;

  const finish = (how: 'end' | 'cut'): TrackedCall => {
    if (done) return done;
    let buckets: UsageBuckets = { ...NO_USAGE };
    let model: string | null = null;
    let id: string | null = null;
    let tier: string | null = null;
    let complete = false;
    if (dialect === 'openai') {
      complete = isObject(openai.facts.usage);
      if (complete) buckets = openAIUsageBuckets(openai.facts.usage);
      ({ model, id, serviceTier: tier } = openai.facts);
    } else if (dialect === 'anthropic') {
      if (anthropic.facts.usage) buckets = anthropicUsageBuckets(anthropic.facts.usage);
      complete = anthropic.complete();
      if (!complete) buckets.outputTokens = null;
      ({ model, id, serviceTier: tier } = anthropic.facts);
    } else {
      complete = isObject(googleUsage);
      if (complete) buckets = googleUsageBuckets(googleUsage);
      model = googleModel;
      id = googleId;
    }
    const known = explicit !== undefined || (complete && how === 'end');
    const { ticket, dialect: _dialect, ...call } = options;
    const usage: CallUsage = {
      ...call,
      ...buckets,
      model: model ?? options.model,
      responseId: options.responseId ?? id,
      serviceTier: options.serviceTier ?? tier,
      ...explicit,
      streaming: true,
      latencyMs: Date.now() - started,
      occurredAt: new Date(started),
      usageOrigin: explicit ? 'manual' : known ? 'stream' : 'unknown',
    };
    done = internals ? internals.record(usage, ticket, context) : tracker.record(usage, ticket);
    return done;
  };

  return {
    event(event) {
      const data = typeof event === 'string' ? event : JSON.stringify(event);
      if (dialect === 'openai') openai.event(data);
      else if (dialect === 'anthropic') anthropic.event(data);
      else {
        const parsed = typeof event === 'string' ? safeParse(event) : event;
        if (isObject(parsed)) {
          if (isObject(parsed.usageMetadata)) googleUsage = parsed.usageMetadata;
          if (typeof parsed.modelVersion === 'string') googleModel = parsed.modelVersion;
          if (typeof parsed.responseId === 'string') googleId = parsed.responseId;
        }
      }
    },
    usage(totals) {
      explicit = { ...explicit, ...totals };
    },
    end: () => finish('end'),
    abort: () => finish('cut'),
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
