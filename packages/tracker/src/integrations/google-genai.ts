import { AsyncLocalStorage } from 'node:async_hooks';
import { forgetAbandonable, recordWhenAbandoned } from '../capture/abandoned-calls';
import { googleUsageBuckets } from '../capture/google-usage';
import { isObject, NO_USAGE } from '../capture/usage-buckets';
import { pickRateLimitHeaders } from '../capture/rate-limit-headers';
import { estimateInputTokens } from '../capture/prompt-size';
import { type CallTicket, TRACKER_INTERNALS, type Tracker, type TrackerInternals } from '../create-tracker';
import type { CallScope } from '../tracker-context';
import type { CallUsage, UsageOrigin } from '../tracked-call';

export type TrackGoogleGenAIOptions = {
  /** Default 'google'. */
  readonly provider?: string;
  readonly tags?: Readonly<Record<string, string>>;
};

type Params = { model?: string; contents?: unknown; config?: { maxOutputTokens?: number; systemInstruction?: unknown; tools?: unknown } };
type GenerateResponse = { usageMetadata?: unknown; modelVersion?: string; responseId?: string; sdkHttpResponse?: { headers?: Record<string, string> } };
type Models = {
  generateContent: (params: Params) => Promise<GenerateResponse>;
  generateContentStream: (params: Params) => Promise<AsyncGenerator<GenerateResponse>>;
  /** One request to the API (1.0 and 2.x): what generateContent calls once, or once per round of automatic function calling. */
  generateContentInternal?: (params: unknown) => Promise<GenerateResponse>;
};

/**
 * The usage of the requests one generateContent made, added up: with automatic function calling each round is a
 * request billed on its own (its prompt, the conversation so far; its output, a function call or the answer).
 * Counts are summed; the rest (the modality details) is the last request's.
 */
function summedUsage(responses: readonly GenerateResponse[]): unknown {
  const summed: Record<string, unknown> = {};
  for (const response of responses) {
    if (!isObject(response.usageMetadata)) continue;
    for (const [key, value] of Object.entries(response.usageMetadata)) {
      const before = summed[key];
      summed[key] = typeof value === 'number' && (before === undefined || typeof before === 'number') ? ((before as number | undefined) ?? 0) + value : value;
    }
  }
  return summed;
}

// The methods of every async generator, called on the one a wrapper is installed on (so the wrapper holds no reference to it).
const asyncGeneratorMethods = Object.getPrototypeOf(async function* () {}.prototype) as AsyncGenerator<unknown>;

/**
 * Records `models.generateContent` and `models.generateContentStream` of a
 * `@google/genai` client (the SDK has no fetch option, so the client's two
 * methods are wrapped on the instance): `trackGoogleGenAI(new GoogleGenAI({ apiKey }), tracker)`.
 * promptTokenCount includes cached content and candidatesTokenCount excludes
 * thoughts, so uncached input and output (thoughts included) are rebuilt; in
 * a stream the last usageMetadata wins. With automatic function calling the
 * SDK makes several requests inside one generateContent; they are recorded as
 * one call with the usage of all of them added up (each is billed), seen
 * through the client's own request method. (A stream with automatic function
 * calling is recorded with its last request's usage.)
 */
export function trackGoogleGenAI<Client extends { models: object }>(client: Client, tracker: Tracker, options: TrackGoogleGenAIOptions = {}): Client {
  const models = client.models as Models;
  if (typeof models.generateContent !== 'function' || typeof models.generateContentStream !== 'function') {
    throw new TypeError('trackGoogleGenAI: expected a GoogleGenAI client (client.models.generateContent and generateContentStream)');
  }
  const provider = options.provider ?? 'google';
  const generate = models.generateContent.bind(models);
  const generateStream = models.generateContentStream.bind(models);
  const internals = (tracker as Tracker & { [TRACKER_INTERNALS]?: TrackerInternals })[TRACKER_INTERNALS];

  const record = (params: Params, ticket: CallTicket, scope: CallScope | undefined, started: number, streaming: boolean, last: GenerateResponse | undefined, complete: boolean) => {
    const usage = last?.usageMetadata;
    const buckets = isObject(usage) ? googleUsageBuckets(usage) : { ...NO_USAGE };
    if (!complete) buckets.outputTokens = null;
    const origin: UsageOrigin = isObject(usage) && complete ? (streaming ? 'stream' : 'response') : 'unknown';
    const call: CallUsage = {
      provider,
      model: last?.modelVersion ?? params.model ?? '',
      operation: streaming ? 'generateContentStream' : 'generateContent',
      ...buckets,
      latencyMs: Date.now() - started,
      streaming,
      responseId: last?.responseId ?? null,
      usageOrigin: origin,
      occurredAt: new Date(started),
      tags: options.tags,
      rateLimitHeaders: pickRateLimitHeaders(last?.sdkHttpResponse?.headers),
    };
    return internals ? internals.record(call, ticket, scope) : tracker.record(call, ticket);
  };

  // The contents are measured only when a budget will read them.
  const admit = (params: Params) =>
    tracker.admit({
      provider,
      model: params.model ?? '',
      maxOutputTokens: params.config?.maxOutputTokens ?? null,
      inputTokens: internals === undefined || internals.needsAdmission(internals.scope()) ? estimateInputTokens(params.contents, params.config?.systemInstruction, params.config?.tools) : null,
      tags: options.tags,
    });

  // The requests each generateContent makes, seen where the SDK makes them (its request method, called on this
  // instance; an own property wins over the class's), and handed to the call they belong to through its async context.
  const requestsOfCall = new AsyncLocalStorage<GenerateResponse[]>();
  const request = models.generateContentInternal;
  if (typeof request === 'function') {
    models.generateContentInternal = async function (this: unknown, params: unknown) {
      const response = await request.call(this, params);
      requestsOfCall.getStore()?.push(response);
      return response;
    };
  }

  models.generateContent = async (params) => {
    const scope = internals?.scope();
    const ticket = await admit(params);
    const started = Date.now();
    const requests: GenerateResponse[] = [];
    let response: GenerateResponse;
    try {
      response = await requestsOfCall.run(requests, () => generate(params));
    } catch (error) {
      ticket.release();
      throw error;
    }
    record(params, ticket, scope, started, false, requests.length > 1 ? { ...response, usageMetadata: summedUsage(requests) } : response, true);
    return response;
  };

  models.generateContentStream = async (params) => {
    // The caller's scope, taken now: the stream's end is read in whatever async context consumes it.
    const scope = internals?.scope();
    const ticket = await admit(params);
    const started = Date.now();
    let inner: AsyncGenerator<GenerateResponse>;
    try {
      inner = await generateStream(params);
    } catch (error) {
      ticket.release();
      throw error;
    }
    let last: GenerateResponse | undefined;
    let recorded = false;
    const finish = (complete: boolean) => {
      if (recorded) return;
      recorded = true;
      forgetAbandonable(abandonable);
      record(params, ticket, scope, started, true, last, complete);
    };
    // Closed or dropped before its first chunk, the generator below never runs its finally: recorded here.
    const close = () => {
      try {
        finish(false);
      } finally {
        inner.return(undefined).catch(() => {});
      }
    };
    // A stream dropped before its end (never iterated, nor closed), garbage collected: recorded with usage 'unknown'.
    const abandonable = { abandon: close };
    async function* observed(): AsyncGenerator<GenerateResponse> {
      let complete = false;
      try {
        for await (const chunk of inner) {
          if (isObject(chunk.usageMetadata) || last === undefined) last = { ...last, ...chunk, usageMetadata: chunk.usageMetadata ?? last?.usageMetadata };
          yield chunk;
        }
        complete = true;
      } finally {
        finish(complete);
      }
    }
    const stream = observed();
    stream.return = async function (this: AsyncGenerator<GenerateResponse>, value) {
      try {
        return await asyncGeneratorMethods.return.call(this, value);
      } finally {
        close();
      }
    } as AsyncGenerator<GenerateResponse>['return'];
    stream.throw = async function (this: AsyncGenerator<GenerateResponse>, error) {
      try {
        return await asyncGeneratorMethods.throw.call(this, error);
      } finally {
        close();
      }
    } as AsyncGenerator<GenerateResponse>['throw'];
    recordWhenAbandoned(stream, abandonable, abandonable);
    return stream;
  };
  return client;
}

