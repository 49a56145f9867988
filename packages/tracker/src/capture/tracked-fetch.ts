import type { CallTicket, Tracker } from '../create-tracker';
import type { UsageOrigin } from '../tracked-call';
import { anthropicResponseFacts, anthropicUsageBuckets, createAnthropicStreamState } from './anthropic-usage';
import { createOpenAIStreamState, openAIResponseFacts, openAIUsageBuckets } from './openai-usage';
import { createSseParser } from './sse-parser';
import { isObject, NO_USAGE, type UsageBuckets } from './usage-buckets';

type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export type TrackedFetchOptions = {
  /** The fetch to call (default globalThis.fetch). */
  readonly fetch?: FetchFunction;
  /** The provider the calls are billed by (default 'anthropic' for /messages, else 'openai'): 'openrouter', 'azure', 'litellm'… */
  readonly provider?: string;
  /** Tags for every call through this fetch (scoped and default tags still apply). */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * How a budget refusal reaches the caller. 'throw' (default): fetch rejects
   * with BudgetExceededError / BudgetExhaustedError. 'body': fetch resolves and
   * reading the body rejects with it: what an SDK client needs, since SDKs
   * retry a fetch that throws but pass a body error straight to the caller.
   */
  readonly refusal?: 'throw' | 'body';
};

/** Endpoints whose responses carry token usage; everything else passes through untouched. */
const TRACKED_PATH = /\/(chat\/completions|responses|embeddings|completions|messages)\/?$/;
const RATE_LIMIT_HEADER = /^(x-ratelimit-|anthropic-ratelimit-|retry-after$|x-ratelimit$)/;

type RequestFacts = {
  readonly dialect: 'openai' | 'anthropic';
  readonly operation: string;
  readonly model: string;
  readonly streaming: boolean;
  readonly includeUsage: boolean;
  readonly maxOutputTokens: number | null;
  readonly inputEstimate: number;
};

let warnedIncludeUsage = false;

/**
 * A fetch that records every OpenAI- or Anthropic-shaped call it carries:
 * JSON bodies and SSE streams are observed as the caller reads them, chunk for
 * chunk, unbuffered and unchanged; the call is recorded when the body ends
 * (or is cancelled: usage origin 'unknown'). Budgets are checked before the
 * request is sent. Failed attempts (429, 5xx) are not recorded: the SDK's
 * retry that succeeds is the one call.
 */
export function createTrackedFetch(tracker: Tracker, options: TrackedFetchOptions = {}): FetchFunction {
  const baseFetch: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return async function trackedFetch(input, init) {
    const facts = await inspectRequest(input, init);
    if (!facts) return baseFetch(input, init);
    const provider = options.provider ?? (facts.dialect === 'anthropic' ? 'anthropic' : 'openai');
    const tags = options.tags;
    let ticket: CallTicket;
    try {
      ticket = await tracker.admit({ provider, model: facts.model, maxOutputTokens: facts.maxOutputTokens, inputTokens: facts.inputEstimate, tags });
    } catch (error) {
      if (options.refusal === 'body') return refusalResponse(error, facts.streaming);
      throw error;
    }
    const started = Date.now();
    const occurredAt = new Date(started);
    let response: Response;
    try {
      response = await baseFetch(input, init);
    } catch (error) {
      ticket.release();
      throw error;
    }
    if (!response.ok || response.body === null) {
      ticket.release();
      return response;
    }
    const contentType = response.headers.get('content-type') ?? '';
    const sse = contentType.includes('text/event-stream');
    const rateLimitHeaders = pickRateLimitHeaders(response.headers);
    const requestId = response.headers.get('x-request-id') ?? response.headers.get('request-id');

    const record = (buckets: UsageBuckets, origin: UsageOrigin, model: string | null, id: string | null, serviceTier: string | null) =>
      tracker.record(
        {
          provider,
          model: model ?? facts.model,
          operation: facts.operation,
          ...buckets,
          serviceTier,
          latencyMs: Date.now() - started,
          streaming: sse,
          responseId: id,
          requestId,
          usageOrigin: origin,
          occurredAt,
          tags,
          rateLimitHeaders,
        },
        ticket,
      );

    let finish: (how: 'end' | 'cut') => void;
    let observe: (chunk: Uint8Array) => void;
    if (sse) {
      if (facts.dialect === 'anthropic') {
        const state = createAnthropicStreamState();
        const parser = batched(createSseParser((event) => state.event(event.data)));
        observe = parser.push;
        finish = (how) => {
          if (how === 'end') parser.end();
          else parser.drain();
          const done = how === 'end' && state.complete();
          const buckets = state.facts.usage ? anthropicUsageBuckets(state.facts.usage) : { ...NO_USAGE };
          if (!done) buckets.outputTokens = null;
          record(buckets, done ? 'stream' : 'unknown', state.facts.model, state.facts.id, state.facts.serviceTier);
        };
      } else {
        const state = createOpenAIStreamState();
        const parser = batched(createSseParser((event) => state.event(event.data)));
        observe = parser.push;
        finish = (how) => {
          if (how === 'end') parser.end();
          else parser.drain();
          const usage = state.facts.usage;
          if (usage === undefined && facts.operation === 'chat.completions' && !facts.includeUsage && !warnedIncludeUsage) {
            warnedIncludeUsage = true;
            process.emitWarning('utt tracker: a streamed chat completion without stream_options.include_usage has no usage; it is recorded with usage origin "unknown"');
          }
          record(usage === undefined ? { ...NO_USAGE } : openAIUsageBuckets(usage), usage === undefined ? 'unknown' : 'stream', state.facts.model, state.facts.id, state.facts.serviceTier);
        };
      }
    } else {
      const chunks: Uint8Array[] = [];
      observe = (chunk) => chunks.push(chunk);
      finish = (how) => {
        let body: unknown;
        if (how === 'end') {
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
        }
        if (facts.dialect === 'anthropic') {
          const found = anthropicResponseFacts(body);
          record(found.usage ? anthropicUsageBuckets(found.usage) : { ...NO_USAGE }, found.usage ? 'response' : 'unknown', found.model, found.id, found.serviceTier);
        } else {
          const found = openAIResponseFacts(body);
          const has = isObject(found.usage);
          record(has ? openAIUsageBuckets(found.usage) : { ...NO_USAGE }, has ? 'response' : 'unknown', found.model, found.id, found.serviceTier);
        }
      };
    }
    return observedResponse(response, observe, finish);
  };
}

/** Chunks parsed this many bytes at a time: the caller's chunks pass on at once, the parsing is done in bulk. */
const PARSE_BATCH_BYTES = 64 * 1024;

/**
 * Parses SSE in batches rather than per chunk: a streamed completion arrives
 * as hundreds of small chunks, and handing each to the parser costs more than
 * the parsing itself. Only references are held (at most PARSE_BATCH_BYTES);
 * what matters for usage is at the start and at the end of a stream.
 */
function batched(parser: ReturnType<typeof createSseParser>) {
  let held: Uint8Array[] = [];
  let bytes = 0;
  const drain = () => {
    if (held.length === 0) return;
    parser.push(held.length === 1 ? (held[0] as Uint8Array) : Buffer.concat(held, bytes));
    held = [];
    bytes = 0;
  };
  return {
    push(chunk: Uint8Array) {
      held.push(chunk);
      bytes += chunk.byteLength;
      if (bytes >= PARSE_BATCH_BYTES) drain();
    },
    drain,
    end() {
      drain();
      parser.end();
    },
  };
}

/**
 * The same response with a body that hands on every chunk as it is read
 * (pull-driven: no read-ahead, no copy) and tells `finish` how it ended. A
 * budget that must `raise` errors the body after its last byte.
 */
function observedResponse(response: Response, observe: (chunk: Uint8Array) => void, finish: (how: 'end' | 'cut') => void): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let finished = false;
  const end = (how: 'end' | 'cut'): unknown => {
    if (finished) return undefined;
    finished = true;
    try {
      finish(how);
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        end('cut');
        controller.error(error);
        return;
      }
      if (result.done) {
        const failure = end('end');
        if (failure !== undefined && isBudgetError(failure)) controller.error(failure);
        else controller.close();
        return;
      }
      try {
        observe(result.value);
      } catch {
        // Observing never breaks the caller's stream.
      }
      controller.enqueue(result.value);
    },
    async cancel(reason) {
      end('cut');
      await reader.cancel(reason);
    },
  });
  const observed = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(observed, 'url', { value: response.url });
  return observed;
}

function isBudgetError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[Symbol.for('utt.error.UTT_BudgetExceededError')] === true;
}

function refusalResponse(error: unknown, streaming: boolean): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.error(error);
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': streaming ? 'text/event-stream' : 'application/json', 'x-should-retry': 'false' },
  });
}

function pickRateLimitHeaders(headers: Headers): Record<string, string> | undefined {
  let picked: Record<string, string> | undefined;
  headers.forEach((value, name) => {
    if (RATE_LIMIT_HEADER.test(name)) (picked ??= {})[name] = value;
  });
  return picked;
}

async function inspectRequest(input: string | URL | Request, init: RequestInit | undefined): Promise<RequestFacts | undefined> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (method !== 'POST') return undefined;
  const path = new URL(url, 'http://localhost').pathname;
  const match = TRACKED_PATH.exec(path);
  if (!match) return undefined;
  let text: string | undefined;
  if (typeof init?.body === 'string') text = init.body;
  else if (init?.body === undefined && input instanceof Request) text = await input.clone().text();
  if (text === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(body) || typeof body.model !== 'string') return undefined;
  const endpoint = match[1] as string;
  const dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
  const streamOptions = isObject(body.stream_options) ? body.stream_options : undefined;
  const max = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens].find((value) => typeof value === 'number') as number | undefined;
  const choices = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
  return {
    dialect,
    operation: endpoint === 'chat/completions' ? 'chat.completions' : endpoint,
    model: body.model,
    streaming: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxOutputTokens: max === undefined ? null : max * choices,
    // A JSON request has at least as many characters as its prompt has tokens × ~3: a generous input estimate.
    inputEstimate: Math.ceil(text.length / 3),
  };
}
