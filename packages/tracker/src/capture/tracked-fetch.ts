import { type CallTicket, TRACKER_INTERNALS, type Tracker, type TrackerInternals } from '../create-tracker';
import type { CallContext } from '../tracker-context';
import type { CallUsage, UsageOrigin } from '../tracked-call';
import { type AbandonableCall, forgetAbandonable, recordWhenAbandoned } from './abandoned-calls';
import { anthropicResponseFacts, anthropicUsageBuckets, createAnthropicStreamState } from './anthropic-usage';
import { applyOpenAIEvent, carriesOpenAIUsage, createOpenAIStreamState, type OpenAIResponseFacts, openAIResponseFacts, openAIUsageBuckets } from './openai-usage';
import { estimateInputTokens } from './prompt-size';
import { RATE_LIMIT_HEADER } from './rate-limit-headers';
import { createSseParser } from './sse-parser';
import { isObject, NO_USAGE, type UsageBuckets } from './usage-buckets';

type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export type TrackedFetchOptions = {
  /** The fetch to call (default globalThis.fetch). */
  readonly fetch?: FetchFunction;
  /** The provider the calls are billed by (default 'anthropic' for /messages, else 'openai'): 'openrouter', 'azure', 'litellm'… */
  readonly provider?: string;
  /** Tags for every call through this fetch: each call's own, like record({ tags }) (default and scoped tags still apply; on the same key these win). */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * How a budget refusal reaches the caller. 'throw' (default): fetch rejects
   * with BudgetExceededError / BudgetExhaustedError. 'body': fetch resolves and
   * reading the body rejects with it: what an SDK client needs, since SDKs
   * retry a fetch that throws but pass a body error straight to the caller.
   */
  readonly refusal?: 'throw' | 'body';
};

/** Endpoints whose responses carry token usage (the last segments of the path); everything else passes through untouched. */
const TRACKED_ENDPOINTS = ['chat/completions', 'responses', 'embeddings', 'completions', 'messages'] as const;

type RequestFacts = {
  readonly model: string;
  readonly streaming: boolean;
  readonly includeUsage: boolean;
  readonly maxOutputTokens: number | null;
  readonly inputEstimate: number;
};

type Dialect = 'openai' | 'anthropic';
type Ending = 'end' | 'cut';
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
/** What a kept read gave, taken as it settled: its chunk, null (the end), or undefined (the stream rejected it). */
type KeptRead = Uint8Array | null | undefined;

let warnedIncludeUsage = false;

/**
 * A fetch that records every OpenAI- or Anthropic-shaped call it carries:
 * JSON bodies and SSE streams are observed as the caller reads them,
 * unbuffered and unchanged; the call is recorded when the body ends (or is
 * cancelled or fails, or is garbage collected unread: usage origin 'unknown',
 * once, latency to the headers when nothing was read). Budgets are checked before the request
 * is sent. Failed attempts (429, 5xx) are not recorded: the SDK's retry that
 * succeeds is the one call.
 *
 * What the caller waits for is kept to the least: unless a budget needs the
 * model and output cap before the call, the request's JSON is read after it;
 * and unless budgets are configured (a `raise` budget rejects the read that
 * reports the end; the next admission counts this call) or the call runs in
 * a thread (whose next call is checked against its tokens), the call is
 * priced, counted and queued on the next turn of the event loop, after the
 * caller has the end of the body. flush() and shutdown() wait for it.
 */
export function createTrackedFetch(tracker: Tracker, options: TrackedFetchOptions = {}): FetchFunction {
  const baseFetch: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const internals = (tracker as Tracker & { [TRACKER_INTERNALS]?: TrackerInternals })[TRACKER_INTERNALS];
  return async function trackedFetch(input, init) {
    const endpoint = trackedEndpoint(input, init);
    if (endpoint === undefined) return baseFetch(input, init);
    let text: string | undefined;
    if (typeof init?.body === 'string') text = init.body;
    else if (init?.body === undefined && input instanceof Request) text = await input.clone().text();
    if (text === undefined) return baseFetch(input, init);
    const dialect: Dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
    const provider = options.provider ?? (dialect === 'anthropic' ? 'anthropic' : 'openai');
    const context = internals?.scope();
    const later = internals !== undefined && internals.recordsLater(context);
    let facts: RequestFacts | undefined;
    let ticket: CallTicket | undefined;
    if (!later || internals.needsAdmission(context)) {
      facts = requestFacts(text);
      if (!facts) return baseFetch(input, init);
      try {
        ticket = await tracker.admit({ provider, model: facts.model, maxOutputTokens: facts.maxOutputTokens, inputTokens: facts.inputEstimate, tags: options.tags });
      } catch (error) {
        if (options.refusal === 'body') return refusalResponse(error, facts.streaming);
        throw error;
      }
    }
    const started = Date.now();
    // From the request on, the tracker's pending records wait for this call's end rather than run on a timer inside it.
    if (later) internals.calling(1);
    let response: Response;
    try {
      response = await baseFetch(input, init);
    } catch (error) {
      if (later) internals.calling(-1);
      ticket?.release();
      throw error;
    }
    const body = response.body;
    if (!response.ok || body === null) {
      if (later) internals.calling(-1);
      ticket?.release();
      return response;
    }
    // The headers, not the response: what a dropped body's record is made of must not keep the body from being collected.
    const call: ObservedCall = { tracker, internals, tags: options.tags, endpoint, dialect, provider, text, facts, ticket, context, started, headersAt: Date.now(), headers: response.headers };
    if (Object.getPrototypeOf(body) !== streamPrototype) {
      // Not Node's own ReadableStream (a fetch polyfill's): observed through a stream layer.
      const recorder = createCallRecorder(call);
      const finish = finisher(recorder.complete, later ? internals : undefined);
      return observedResponse(response, recorder.events.push, { sync: finish.sync, end: (how, endedAt) => finish.end(how, () => recorder.events.end(), endedAt) }, call.headersAt);
    }
    const tap = new BodyTap(call, later ? internals : undefined);
    // Dropped unread, the body's collection records the call. Forgotten once recorded: V8's scavenges keep a registered
    // body alive, so one left registered after its end would be promoted to the old generation with all it holds.
    recordWhenAbandoned(body, tap, tap);
    return observeBodyInPlace(response, body, tap);
  };
}

/** A call whose response is being read: what recording it takes, besides what its body says. */
type ObservedCall = {
  readonly tracker: Tracker;
  readonly internals: TrackerInternals | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
  readonly endpoint: string;
  readonly dialect: Dialect;
  readonly provider: string;
  /** The request's JSON, read now or (when no budget needed it before the call) at the end. */
  readonly text: string;
  readonly facts: RequestFacts | undefined;
  readonly ticket: CallTicket | undefined;
  readonly context: CallContext | undefined;
  readonly started: number;
  /** When the response's headers came: a body never read ended there. */
  readonly headersAt: number;
  readonly headers: Headers;
};

/** What a body's chunks go to: an SSE usage reader, or the chunks of a JSON body. */
type BodyEvents = {
  push(chunk: Uint8Array): void;
  end(): void;
  endFromReads(reads: readonly KeptRead[]): void;
};

/** What a call's record takes from its response headers (see readHeaders). */
type HeaderFacts = { readonly contentType: string; readonly requestId: string | null; readonly rateLimit: Record<string, string> | undefined };

/** The operation a call's endpoint is recorded as. */
const operationOf = (endpoint: string): string => (endpoint === 'chat/completions' ? 'chat.completions' : endpoint);

/**
 * Records a call whose response named its model (or whose request did):
 * the usage handed to record(), built field by field in one place for every
 * kind of body. Arguments, not an object of them: a record is made once per
 * call, and each object built on the way is one more to allocate and read.
 */
function recordCall(
  call: ObservedCall,
  headers: HeaderFacts,
  streaming: boolean,
  model: string,
  endedAt: number,
  buckets: UsageBuckets,
  origin: UsageOrigin,
  id: string | null,
  serviceTier: string | null,
): void {
  const usage: CallUsage = {
    provider: call.provider,
    model,
    operation: operationOf(call.endpoint),
    // Field by field: a spread of the buckets is a generic copy on a path run once per call.
    inputTokens: buckets.inputTokens,
    outputTokens: buckets.outputTokens,
    cachedReadTokens: buckets.cachedReadTokens,
    cachedWriteTokens: buckets.cachedWriteTokens,
    cachedWrite1hTokens: buckets.cachedWrite1hTokens,
    reasoningTokens: buckets.reasoningTokens,
    webSearches: buckets.webSearches,
    serviceTier,
    latencyMs: endedAt - call.started,
    streaming,
    responseId: id,
    requestId: headers.requestId,
    usageOrigin: origin,
    occurredAt: new Date(call.started),
    tags: call.tags,
    rateLimitHeaders: headers.rateLimit,
  };
  if (call.internals) call.internals.record(usage, call.ticket, call.context);
  else call.tracker.record(usage, call.ticket);
}

/**
 * The usual end of a deferred OpenAI stream, recorded straight from its kept
 * reads: an SSE body whose last events name the model, the id, the service
 * tier and the usage (OpenAI's final chunk, response.completed). Exactly
 * what createCallRecorder's reading records then (openAIFactsFromEnd takes
 * those four and nothing else), without its reader, state and closures.
 * False, having recorded nothing, for anything else.
 */
function recordOpenAIStreamEnd(call: ObservedCall, headers: HeaderFacts, reads: readonly KeptRead[], endedAt: number): boolean {
  if (call.dialect !== 'openai' || !headers.contentType.includes('text/event-stream')) return false;
  const found = openAIStreamEnd(reads);
  if (found === undefined || found.wholeWindow) return false;
  const facts = found.facts;
  recordCall(call, headers, true, facts.model as string, endedAt, openAIUsageBuckets(facts.usage), 'stream', facts.id, facts.serviceTier);
  return true;
}

/** How a call's body is read for usage (SSE or JSON, by its content type), and how the call is recorded once it ended. */
function createCallRecorder(call: ObservedCall, headers: HeaderFacts = readHeaders(call.headers)): { events: BodyEvents; complete: (how: Ending, endedAt: number) => void } {
  const { dialect } = call;
  const sse = headers.contentType.includes('text/event-stream');
  const operation = operationOf(call.endpoint);
  // The request's JSON is parsed only when the response leaves something to it (no model named, no usage).
  let parsed: RequestFacts | null | undefined = call.facts;
  const facts = () => (parsed === undefined ? (parsed = requestFacts(call.text) ?? null) : parsed);

  const record = (endedAt: number, found: { buckets: UsageBuckets; origin: UsageOrigin; model: string | null; id: string | null; serviceTier: string | null }) => {
    const model = found.model ?? facts()?.model;
    if (model === undefined) {
      // Neither the response nor a JSON request names a model: not a call the tracker records.
      call.ticket?.release();
      return;
    }
    recordCall(call, headers, sse, model, endedAt, found.buckets, found.origin, found.id, found.serviceTier);
  };

  if (sse && dialect === 'anthropic') {
    const state = createAnthropicStreamState();
    return {
      events: createUsageEventReader(state.event, { head: () => state.facts.id !== null, tail: state.complete }),
      complete(how, endedAt) {
        const done = how === 'end' && state.complete();
        const buckets = state.facts.usage ? anthropicUsageBuckets(state.facts.usage) : { ...NO_USAGE };
        if (!done) buckets.outputTokens = null;
        record(endedAt, { buckets, origin: done ? 'stream' : 'unknown', model: state.facts.model, id: state.facts.id, serviceTier: state.facts.serviceTier });
      },
    };
  }
  if (sse) {
    const state = createOpenAIStreamState();
    // Made when first needed: a stream whose end names everything never needs it.
    let reader: UsageEventReader | undefined;
    const usual = () => (reader ??= createUsageEventReader(state.event, { head: () => state.facts.id !== null, tail: () => state.facts.usage !== undefined }));
    return {
      events: { push: (chunk) => usual().push(chunk), end: () => usual().end(), endFromReads: (reads) => openAIFactsFromEnd(reads, state.facts, usual) },
      complete(how, endedAt) {
        const usage = state.facts.usage;
        if (how === 'end' && usage === undefined && operation === 'chat.completions' && !warnedIncludeUsage && facts()?.includeUsage === false) {
          warnedIncludeUsage = true;
          process.emitWarning('utt tracker: a streamed chat completion without stream_options.include_usage has no usage; it is recorded with usage origin "unknown"');
        }
        const buckets = usage === undefined ? { ...NO_USAGE } : openAIUsageBuckets(usage);
        record(endedAt, { buckets, origin: usage === undefined ? 'unknown' : 'stream', model: state.facts.model, id: state.facts.id, serviceTier: state.facts.serviceTier });
      },
    };
  }
  const chunks: Uint8Array[] = [];
  return {
    events: {
      push: (chunk) => {
        chunks.push(chunk);
      },
      end() {},
      endFromReads(reads) {
        for (const read of reads) {
          const chunk = chunkOf(read);
          if (chunk) chunks.push(chunk);
        }
      },
    },
    complete(how, endedAt) {
      let body: unknown;
      if (how === 'end') {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
      }
      if (dialect === 'anthropic') {
        const found = anthropicResponseFacts(body);
        record(endedAt, { buckets: found.usage ? anthropicUsageBuckets(found.usage) : { ...NO_USAGE }, origin: found.usage ? 'response' : 'unknown', model: found.model, id: found.id, serviceTier: found.serviceTier });
      } else {
        const found = openAIResponseFacts(body);
        const has = isObject(found.usage);
        record(endedAt, { buckets: has ? openAIUsageBuckets(found.usage) : { ...NO_USAGE }, origin: has ? 'response' : 'unknown', model: found.model, id: found.id, serviceTier: found.serviceTier });
      }
    },
  };
}

/** The endpoint of a POST whose response carries token usage ('chat/completions', 'messages'…), else undefined. */
function trackedEndpoint(input: string | URL | Request, init: RequestInit | undefined): string | undefined {
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  if (method !== 'POST' && method.toUpperCase() !== 'POST') return undefined;
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  // The path without query or fragment, read from the string: a URL parse costs more than the rest of the check.
  let end = url.length;
  const query = url.indexOf('?');
  if (query !== -1) end = query;
  const fragment = url.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  const scheme = url.indexOf('://');
  const pathStart = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
  if (pathStart === -1 || pathStart >= end) return undefined;
  if (url.charCodeAt(end - 1) === 47) end -= 1; // a trailing '/'
  for (const endpoint of TRACKED_ENDPOINTS) {
    const start = end - endpoint.length;
    // '/<endpoint>' ends the path: compared in place, with no slice or regular expression.
    if (start - 1 >= pathStart && url.charCodeAt(start - 1) === 47 && url.startsWith(endpoint, start)) return endpoint;
  }
  return undefined;
}

function requestFacts(text: string): RequestFacts | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(body) || typeof body.model !== 'string') return undefined;
  const streamOptions = isObject(body.stream_options) ? body.stream_options : undefined;
  const max = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens].find((value) => typeof value === 'number') as number | undefined;
  const choices = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
  return {
    model: body.model,
    streaming: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxOutputTokens: max === undefined ? null : max * choices,
    // The same upper bound as the AI SDK's and Google's: one token per UTF-8 byte of the request's text.
    inputEstimate: estimateInputTokens(body),
  };
}

/** Bytes of a stream held (as references to the chunks read) before it is parsed as it goes instead. */
const HOLD_BYTES = 1024 * 1024;
/**
 * The first tail read at the end of a stream; quadrupled until it holds what
 * `tail` waits for. It holds OpenAI's usage chunk with its token details
 * (about 0.5 KB) and `[DONE]`, or Anthropic's last message_delta and
 * message_stop: each byte of it is decoded and split into lines.
 */
const TAIL_BYTES = 1024;

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Where the event that goes on at `offset` ends (just past its blank line), or -1 when it does not end in `bytes`. */
function eventEnd(bytes: Buffer, offset: number): number {
  // Line by line: the first line end followed by an empty line (LF or CRLF). One scan, no view of the bytes made.
  for (let lf = bytes.indexOf(10, offset); lf !== -1; lf = bytes.indexOf(10, lf + 1)) {
    const next = bytes[lf + 1];
    if (next === 10) return lf + 2;
    if (next === 13 && bytes[lf + 2] === 10) return lf + 3;
  }
  return -1;
}

type UsageEventReader = ReturnType<typeof createUsageEventReader>;

/** A pass over a stream's events (its head, or a tail window): an SSE parser made when first needed; `cut`: it holds the start of an event. */
type EventPass = { parser: ReturnType<typeof createSseParser> | undefined; cut: boolean };

/**
 * The data of the event `bytes[start, end)` (which ends in a blank line) when
 * it is one LF-ended `data:` line, after an `event:` line or not: what
 * OpenAI, Anthropic and most compatible servers send. Else undefined (the SSE
 * parser reads it). The event's name is not needed: the usage readers go by
 * the data.
 */
function shortEventData(bytes: Buffer, start: number, end: number): string | undefined {
  const from = shortEventDataStart(bytes, start, end);
  return from === -1 ? undefined : bytes.toString('utf8', from, end - 2);
}

/** Where the data of shortEventData starts (it ends at `end - 2`), or -1 when the event is not in that form. */
function shortEventDataStart(bytes: Buffer, start: number, end: number): number {
  const last = end - 2;
  if (bytes[last] !== 10 || bytes[last + 1] !== 10 || bytes[last - 1] === 13) return -1;
  let line = start;
  // 'event:'
  if (bytes[line] === 101 && bytes[line + 1] === 118 && bytes[line + 2] === 101 && bytes[line + 3] === 110 && bytes[line + 4] === 116 && bytes[line + 5] === 58) {
    line = bytes.indexOf(10, line) + 1;
  }
  // 'data:', ending at the event's last line end
  if (bytes[line] !== 100 || bytes[line + 1] !== 97 || bytes[line + 2] !== 116 || bytes[line + 3] !== 97 || bytes[line + 4] !== 58) return -1;
  if (line + 5 > last || bytes.indexOf(10, line) !== last) return -1;
  return bytes[line + 5] === 32 ? line + 6 : line + 5;
}

/** The chunk a settled read gave, or undefined: the end, or a read the stream rejected (a cut stream is still recorded). */
const chunkOf = (read: KeptRead): Uint8Array | undefined => (read === null ? undefined : read);

/**
 * Reads the usage events of an SSE stream without parsing its middle. What a
 * provider stream reports about usage is at its start (id, model, Anthropic's
 * message_start) and at its end (OpenAI's usage chunk, response.completed,
 * Anthropic's last message_delta); the content deltas in between are most of
 * its bytes, and decoding and splitting them cost as much as the caller's own
 * parsing. So the first events are parsed until `head()` holds; the chunks
 * are only held (references, no copy); and at the end the last events are
 * parsed, from an event boundary, in a window that grows until `tail()` holds
 * — the whole stream when it never does (a stream without usage). Both state
 * machines are last-write-wins per event, so events seen twice (head and tail
 * of a short stream) leave the same facts. A stream longer than HOLD_BYTES is
 * parsed as it goes, in order, instead.
 *
 * Chunks come either as they are read (push, then end), or all at the end
 * from the settled reads of a body the caller read with nothing in between
 * (endFromReads): then only the first and last chunks are ever looked at.
 */
function createUsageEventReader(onData: (data: string) => void, until: { head: () => boolean; tail: () => boolean }) {
  const onEvent = (event: { data: string }) => onData(event.data);
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  const head: EventPass = { parser: undefined, cut: false };
  let heading = true;
  let running: ReturnType<typeof createSseParser> | undefined;
  let ended = false;

  /**
   * Hands on the events of `bytes` from `offset`, in order, until `stop()`
   * holds. A whole event in the form providers send (one `data:` line, after
   * an `event:` line or not) is decoded on its own; anything else, and an
   * event cut between chunks, goes through the pass's SSE parser.
   */
  const pushEvents = (pass: EventPass, bytes: Buffer, offset: number, stop?: () => boolean) => {
    while (offset < bytes.length && !stop?.()) {
      const next = eventEnd(bytes, offset);
      if (next !== -1 && !pass.cut) {
        const data = shortEventData(bytes, offset, next);
        if (data !== undefined) {
          onData(data);
          offset = next;
          continue;
        }
      }
      (pass.parser ??= createSseParser(onEvent)).push(next === -1 ? bytes.subarray(offset) : bytes.subarray(offset, next));
      pass.cut = next === -1;
      if (next === -1) return;
      offset = next;
    }
  };

  const pushHead = (chunk: Uint8Array) => {
    // Event by event: a first read may hold the whole stream when it arrived at once.
    pushEvents(head, asBuffer(chunk), 0, until.head);
    if (until.head()) heading = false;
  };

  /**
   * Parses the last `window` bytes of `chunks` (the end of the stream) from an
   * event boundary; true when that is enough: `tail()` holds, or the window
   * took in the whole stream (`chunks` is all of it and fits). The chunks are
   * parsed where they are, one after the other: joining them would allocate a
   * buffer, and through a socket a fresh buffer costs more than the parse.
   */
  const parseTail = (chunks: readonly Uint8Array[], window: number, allOfStream: boolean): boolean => {
    let first = chunks.length;
    let bytes = 0;
    while (first > 0 && bytes < window) {
      first -= 1;
      bytes += (chunks[first] as Uint8Array).byteLength;
    }
    if (first === chunks.length) return allOfStream;
    const whole = allOfStream && first === 0 && bytes <= window;
    // Where the window starts in its first chunk: that chunk may be far larger than what it adds.
    let from = whole ? 0 : Math.max(0, bytes - window);
    let started = whole;
    const tail: EventPass = { parser: undefined, cut: false };
    for (let index = first; index < chunks.length; index += 1) {
      let piece = asBuffer(chunks[index] as Uint8Array);
      if (!started) {
        // Resume at the first event boundary: what comes before it is the end of an event cut by the window. (One
        // split between two chunks is not seen: the window then starts an event later.)
        const boundary = eventEnd(piece, from);
        from = 0;
        if (boundary === -1) continue;
        started = true;
        piece = piece.subarray(boundary);
      }
      pushEvents(tail, piece, 0);
    }
    if (!started) return false;
    tail.parser?.end();
    return whole || until.tail();
  };

  return {
    push(chunk: Uint8Array) {
      if (running) {
        running.push(chunk);
        return;
      }
      held.push(chunk);
      heldBytes += chunk.byteLength;
      if (heading) pushHead(chunk);
      if (heldBytes > HOLD_BYTES) {
        running = createSseParser(onEvent);
        running.push(Buffer.concat(held, heldBytes));
        held = [];
        heading = false;
      }
    },
    /** Parses what the end of the stream says (also after a cut: whatever arrived). */
    end() {
      if (ended) return;
      ended = true;
      if (running) {
        running.end();
        return;
      }
      for (let window = TAIL_BYTES; !parseTail(held, window, true); window *= 4) {
        // a wider window
      }
      held = [];
    },
    /** Parses the start and the end of a body from its reads, all settled (the stream has ended); pushes nothing. */
    endFromReads(reads: readonly KeptRead[]) {
      if (ended) return;
      this.headFromReads(reads);
      this.tailFromReads(reads);
    },
    /** Parses the start of a body from its reads (what endFromReads does first). */
    headFromReads(reads: readonly KeptRead[]) {
      for (let index = 0; heading && index < reads.length; index += 1) {
        const chunk = chunkOf(reads[index]);
        if (chunk) pushHead(chunk);
      }
      heading = false;
    },
    /** Parses the end of a body from its reads (what endFromReads does after the start). */
    tailFromReads(reads: readonly KeptRead[]) {
      if (ended) return;
      ended = true;
      // The end, fetched backwards as far as the window needs.
      const last: Uint8Array[] = [];
      let bytes = 0;
      let next = reads.length - 1;
      for (let window = TAIL_BYTES; ; window *= 4) {
        while (next >= 0 && bytes <= window) {
          const chunk = chunkOf(reads[next]);
          next -= 1;
          if (chunk && chunk.byteLength > 0) {
            last.push(chunk);
            bytes += chunk.byteLength;
          }
        }
        if (parseTail([...last].reverse(), window, next < 0)) break;
      }
    },
  };
}

/**
 * An OpenAI stream's facts from its reads, all settled, read from the end
 * first. OpenAI's final chunk (chat with include_usage) and response.completed
 * (Responses) name the model, the id, the service tier and the usage, and
 * each field is the last one a stream's events name: when the last events
 * name all four, the head is not parsed at all. When they leave a field out
 * (a server that sends no service tier), every event of the first tail
 * window is read and the head fills in what the window left out, as the
 * head-then-tail reading does; anything else the usual reading handles. Both
 * give the same facts: the events read from the end are the first tail
 * window's, and they are read with the same filter (the id is known then).
 */
function openAIFactsFromEnd(reads: readonly KeptRead[], facts: OpenAIResponseFacts, usual: () => UsageEventReader): void {
  const found = openAIStreamEnd(reads);
  if (found === undefined || found.facts.usage === undefined) return usual().endFromReads(reads);
  const last = found.facts;
  if (last.model === null || last.id === null || last.serviceTier === null) {
    if (!found.wholeWindow) return usual().endFromReads(reads);
    usual().headFromReads(reads);
    // A head that never found an id read the whole stream; the tail is then read without the filter, as usual.
    if (facts.id === null) return usual().tailFromReads(reads);
  }
  facts.model = last.model ?? facts.model;
  facts.id = last.id ?? facts.id;
  facts.serviceTier = last.serviceTier ?? facts.serviceTier;
  facts.usage = last.usage;
}

/** True when `bytes` ends where an event ends (a blank line, LF only, not a third line end). */
function endsAtEventEnd(bytes: Uint8Array): boolean {
  const length = bytes.length;
  return length >= 2 && bytes[length - 1] === 10 && bytes[length - 2] === 10 && bytes[length - 3] !== 10 && bytes[length - 3] !== 13;
}

/** The last read before `index` that gave bytes: its chunk and index (chunk undefined: there is none), or undefined when a read failed. */
function previousChunk(reads: readonly KeptRead[], index: number): { chunk: Buffer | undefined; index: number } | undefined {
  for (let at = index - 1; at >= 0; at -= 1) {
    const read = reads[at];
    if (read === undefined) return undefined;
    if (read !== null && read.byteLength > 0) return { chunk: asBuffer(read), index: at };
  }
  return { chunk: undefined, index: -1 };
}

/**
 * Reads an OpenAI stream's events from its end backwards, within the first
 * tail window (TAIL_BYTES), each field set by the last event that names it
 * (the filter of a stream whose id is known: only events that may carry
 * usage or the final response are parsed; the others are passed over on
 * their bytes), until the model, id, service tier and usage are all set or
 * the window is read (`wholeWindow`). Undefined when the events there are
 * not all in the usual form (one `data:` line, LF line ends, within one
 * read): the usual reading handles those. The bytes are scanned in plain
 * loops: they are few, and a Buffer search calls into C++ each time.
 */
function openAIStreamEnd(reads: readonly KeptRead[]): { facts: OpenAIResponseFacts; wholeWindow: boolean } | undefined {
  const facts: OpenAIResponseFacts = { model: null, id: null, serviceTier: null, usage: undefined };
  const last = previousChunk(reads, reads.length);
  if (last === undefined || last.chunk === undefined || !endsAtEventEnd(last.chunk)) return undefined;
  let { chunk, index } = last as { chunk: Buffer; index: number };
  // Bytes of the stream after `chunk`.
  let after = 0;
  let end = chunk.length;
  for (;;) {
    // The event that ends at `end` starts after the blank line before it: in this chunk, or ending the one before.
    const event = eventBefore(chunk, end);
    if (event === undefined) return undefined;
    const { start, from } = event;
    let before: { chunk: Buffer | undefined; index: number } | undefined;
    if (start === 0) {
      before = previousChunk(reads, index);
      if (before === undefined || (before.chunk !== undefined && !endsAtEventEnd(before.chunk))) return undefined;
    }
    // The first tail window starts at the first blank line in the stream's last TAIL_BYTES (at the stream's start when it is no longer).
    const inWindow = before !== undefined && before.chunk === undefined ? after + chunk.length <= TAIL_BYTES : after + chunk.length - (start - 2) <= TAIL_BYTES;
    if (!inWindow) return { facts, wholeWindow: true };
    if (!isDone(chunk, from, end - 2)) {
      const data = chunk.toString('utf8', from, end - 2);
      if (carriesOpenAIUsage(data)) {
        applyOpenAIEvent(facts, data, true);
        if (facts.model !== null && facts.id !== null && facts.serviceTier !== null && facts.usage !== undefined) return { facts, wholeWindow: false };
      }
    }
    if (before === undefined) {
      end = start;
      continue;
    }
    // The stream's first byte: the whole stream was the window.
    if (before.chunk === undefined) return { facts, wholeWindow: true };
    after += chunk.length;
    chunk = before.chunk;
    index = before.index;
    end = chunk.length;
  }
}

/** Whether the data `bytes[from, to)` is `[DONE]` (the end of an OpenAI stream, which names nothing). */
function isDone(bytes: Uint8Array, from: number, to: number): boolean {
  return to - from === 6 && bytes[from] === 91 && bytes[from + 1] === 68 && bytes[from + 2] === 79 && bytes[from + 3] === 78 && bytes[from + 4] === 69 && bytes[from + 5] === 93;
}

/**
 * The event of `chunk` that ends at `end` (just past its blank line), found
 * backwards: where it starts and where its data starts, when it is in the
 * form shortEventData reads (an `event:` line or not, then one `data:` line,
 * LF line ends); undefined otherwise. `start` 0: it starts at the chunk's
 * start, and whether an event starts there is in the chunk before. A line is
 * found with Buffer#lastIndexOf, one call per line (the lines are long and
 * few: a loop over their bytes costs more).
 */
function eventBefore(chunk: Buffer, end: number): { start: number; from: number } | undefined {
  const last = end - 2;
  if (last < 1 || chunk[last] !== 10 || chunk[last + 1] !== 10 || chunk[last - 1] === 13) return undefined;
  const dataEnd = chunk.lastIndexOf(10, last - 1);
  const line = dataEnd + 1;
  // 'data:'
  if (chunk[line] !== 100 || chunk[line + 1] !== 97 || chunk[line + 2] !== 116 || chunk[line + 3] !== 97 || chunk[line + 4] !== 58 || line + 5 > last) return undefined;
  const from = chunk[line + 5] === 32 ? line + 6 : line + 5;
  if (dataEnd === -1) return { start: 0, from };
  // After a blank line (not a third line end): the event is this line.
  if (chunk[dataEnd - 1] === 10) return chunk[dataEnd - 2] === 10 ? undefined : { start: line, from };
  // Else after an 'event:' line that follows a blank line.
  const eventLineEnd = dataEnd > 0 ? chunk.lastIndexOf(10, dataEnd - 1) : -1;
  const eventLine = eventLineEnd + 1;
  if (chunk[eventLine] !== 101 || chunk[eventLine + 1] !== 118 || chunk[eventLine + 2] !== 101 || chunk[eventLine + 3] !== 110 || chunk[eventLine + 4] !== 116 || chunk[eventLine + 5] !== 58) return undefined;
  if (eventLineEnd === -1) return { start: 0, from };
  return chunk[eventLineEnd - 1] === 10 && chunk[eventLineEnd - 2] !== 10 ? { start: eventLine, from } : undefined;
}

/** Runs `complete` once, with how the body ended: now (returning what it threw: a `raise` budget's error), or on the tracker's next turn. */
type Finish = {
  readonly sync: boolean;
  /** `settle` first has the event reader parse what the body said; `endedAt` (default now): when the call ended. */
  end(how: Ending, settle?: () => void, endedAt?: number): unknown;
};

function finisher(complete: (how: Ending, endedAt: number) => void, later: TrackerInternals | undefined): Finish {
  let finished = false;
  return {
    sync: later === undefined,
    end(how, settle, at) {
      if (finished) return undefined;
      finished = true;
      const endedAt = at ?? Date.now();
      if (later) {
        later.defer(() => {
          settle?.();
          complete(how, endedAt);
        });
        return undefined;
      }
      try {
        settle?.();
        complete(how, endedAt);
      } catch (error) {
        return error;
      }
      return undefined;
    },
  };
}

/** Reads kept (not looked at) before the rest of a body is followed read by read instead: a bound on what a body holds. */
const HELD_READS = 512;

const ignore = () => {};

/**
 * How a body is followed while the caller reads it, and recorded once it
 * ended. Unless the end must be seen before the caller gets it (`sync`: a
 * `raise` budget rejects the last read), a read is handed to the caller as
 * the very promise the stream returned; one reaction, attached before the
 * caller's own, keeps what it gave (a reference to the chunk). The first
 * HELD_READS reads are only kept, and once the stream has ended the call
 * goes to the tracker's pending records, which look at the first and last of
 * them (an SSE body's head and tail, a JSON body whole) in one synchronous
 * pass: the results are at hand, so totals() or flush() can record the call
 * at once. Reads past that, and BYOB reads (whose buffer the caller reuses),
 * pass their chunk on as they settle. The end is the kept read that reports
 * it (its reaction runs before the caller's), else the reader's `closed`
 * promise (a cut, or reads past the kept ones). Nothing about
 * the body (content type, parser, state) is set up before it is needed.
 */
class BodyTap {
  // Fields are set in the constructor only (`declare`): a class field initializer is one more function to run per body.
  declare readonly sync: boolean;
  /** What the reads gave, in order, until the body is followed read by read (or recorded). */
  declare private kept: KeptRead[] | undefined;
  /** Reads made while keeping (the kept ones settle in this order). */
  declare private keptReads: number;
  declare private recorder: ReturnType<typeof createCallRecorder> | undefined;
  declare private finished: boolean;
  declare private settled: boolean;
  // Reactions, made when first needed: a body read with nothing in between never needs them.
  declare private onResult: ((result: ReadResult) => void) | undefined;
  declare private onKept: ((result: ReadResult) => void) | undefined;
  declare private onKeptError: ((error: unknown) => void) | undefined;
  declare private onCopiedResult: ((result: ReadResult) => void) | undefined;
  declare private onSyncResult: ((result: ReadResult) => ReadResult) | undefined;
  declare private onSyncCopiedResult: ((result: ReadResult) => ReadResult) | undefined;
  declare private onSyncError: ((error: unknown) => never) | undefined;
  declare private readonly call: ObservedCall;
  declare private readonly later: TrackerInternals | undefined;

  constructor(call: ObservedCall, later: TrackerInternals | undefined) {
    this.call = call;
    this.later = later;
    this.sync = later === undefined;
    this.kept = this.sync ? undefined : [];
    this.keptReads = 0;
    this.recorder = this.sync ? createCallRecorder(call) : undefined;
    this.finished = false;
    this.settled = false;
    this.onResult = undefined;
    this.onKept = undefined;
    this.onKeptError = undefined;
    this.onCopiedResult = undefined;
    this.onSyncResult = undefined;
    this.onSyncCopiedResult = undefined;
    this.onSyncError = undefined;
  }

  private observe(chunk: Uint8Array): void {
    // A read that settles after the call was recorded (a cut stream's last reads) changes nothing.
    if (this.settled) return;
    try {
      this.recorder ??= createCallRecorder(this.call);
      this.recorder.events.push(chunk);
    } catch {
      // Observing never breaks the caller's stream.
    }
  }

  /**
   * From now on, each read is followed as it settles: the chunks kept so far
   * first, then (through the kept reads' own reactions, in order) those of
   * the kept reads still pending, then the rest.
   */
  private follow(): void {
    const kept = this.kept as KeptRead[];
    this.kept = undefined;
    for (const read of kept) if (read) this.observe(read);
    this.onResult ??= (result) => {
      if (!result.done) this.observe(result.value);
    };
  }

  /** A read of the caller's, on the body's own reader: the promise to give back. */
  read(inner: AnyReader, view: ArrayBufferView | undefined): Promise<ReadResult> {
    if (view === undefined && this.kept !== undefined) {
      const read = (inner as ReadableStreamDefaultReader<Uint8Array>).read();
      this.onKept ??= (result) => {
        if (this.kept !== undefined) this.kept.push(result.done ? null : result.value);
        else if (!result.done) this.observe(result.value);
        // The end, seen on the read that reports it, before the caller's own reaction to it runs: a caller that reads
        // totals() as soon as it has the end finds the call there (the reader's `closed` settles after this read).
        if (result.done) this.end('end');
      };
      this.onKeptError ??= () => {
        if (this.kept !== undefined) this.kept.push(undefined);
      };
      read.then(this.onKept, this.onKeptError);
      this.keptReads += 1;
      if (this.keptReads >= HELD_READS) this.follow();
      return read;
    }
    if (this.sync) return this.syncRead(inner, view);
    if (view === undefined) {
      const read = (inner as ReadableStreamDefaultReader<Uint8Array>).read();
      read.then(this.onResult, ignore);
      return read;
    }
    // A BYOB read: the caller may reuse its buffer, so the chunk is copied as it settles.
    if (this.kept !== undefined) this.follow();
    this.onCopiedResult ??= (result) => {
      if (!result.done) this.observe(Buffer.from(result.value));
    };
    const read = (inner as ReadableStreamBYOBReader).read(view as Uint8Array) as Promise<ReadResult>;
    read.then(this.onCopiedResult, ignore);
    return read;
  }

  /** The end seen before the caller gets it: a derived promise per read (a `raise` budget rejects the last one). */
  private syncRead(inner: AnyReader, view: ArrayBufferView | undefined): Promise<ReadResult> {
    this.onSyncError ??= (error) => {
      this.end('cut');
      throw error;
    };
    this.onSyncResult ??= (result) => {
      if (result.done) {
        const failure = this.end('end');
        if (failure !== undefined && isBudgetError(failure)) throw failure;
        return result;
      }
      this.observe(result.value);
      return result;
    };
    if (view === undefined) return (inner as ReadableStreamDefaultReader<Uint8Array>).read().then(this.onSyncResult, this.onSyncError);
    this.onSyncCopiedResult ??= (result) => {
      if (result.done) return (this.onSyncResult as (result: ReadResult) => ReadResult)(result);
      this.observe(Buffer.from(result.value));
      return result;
    };
    return (inner as ReadableStreamBYOBReader).read(view as Uint8Array).then(this.onSyncCopiedResult, this.onSyncError);
  }

  /** Garbage collected unread (registered with recordWhenAbandoned): recorded as cut, unless it ended before. */
  abandon(): void {
    this.end('cut');
  }

  /**
   * The end, or a cut (cancel, error, collection): records the call, now
   * (returning a `raise` budget's error) or with the tracker's pending
   * records. A body cut before any read ended at its headers: the caller
   * never had more of it.
   */
  end(how: Ending): unknown {
    if (this.finished) return undefined;
    this.finished = true;
    const endedAt = how === 'cut' && this.neverRead() ? this.call.headersAt : Date.now();
    if (this.later) {
      this.later.defer(() => this.settle(how, endedAt));
      return undefined;
    }
    this.settled = true;
    forgetAbandonable(this);
    const recorder = this.recorder as ReturnType<typeof createCallRecorder>;
    try {
      recorder.events.end();
      recorder.complete(how, endedAt);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  /** No read was made (each kind of read makes its reaction when first needed). */
  private neverRead(): boolean {
    return this.onKept === undefined && this.onResult === undefined && this.onCopiedResult === undefined && this.onSyncResult === undefined;
  }

  /** Records the call from what its reads gave so far (after a cut, reads still pending add nothing). */
  private settle(how: Ending, endedAt: number): void {
    let recorder = this.recorder;
    const headers = recorder === undefined ? readHeaders(this.call.headers) : undefined;
    const kept = this.kept;
    this.kept = undefined;
    this.settled = true;
    // Here rather than at the end: in the pending records' pass, off the caller's path.
    forgetAbandonable(this);
    // A body read with nothing in between whose end names everything (an OpenAI stream, as OpenAI sends it): recorded
    // from its last events, with no reader made. Kept reads mean no recorder was made before (it comes with follow()).
    if (headers !== undefined && kept !== undefined && recordOpenAIStreamEnd(this.call, headers, kept, endedAt)) return;
    recorder ??= this.recorder = createCallRecorder(this.call, headers);
    if (kept === undefined) recorder.events.end();
    else recorder.events.endFromReads(kept);
    recorder.complete(how, endedAt);
  }
}

type AnyReader = ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;

/** Tells `tap` how the body ended when the reader's `closed` settles: closed, or errored (not: released by its holder). */
function watchEnd(inner: AnyReader, tap: BodyTap, isReleased: () => boolean): void {
  inner.closed.then(
    () => tap.end('end'),
    () => {
      if (!isReleased()) tap.end('cut');
    },
  );
}

/** A reader over `inner` whose reads go through `tap`; its end (closed) or cut (cancel, error) goes to the tap. */
function tappedReader<Reader extends AnyReader>(inner: Reader, tap: BodyTap): Reader {
  let released = false;
  if (!tap.sync) watchEnd(inner, tap, () => released);
  return {
    read: (view?: ArrayBufferView) => tap.read(inner, view),
    cancel: (reason?: unknown) => {
      tap.end('cut');
      return inner.cancel(reason);
    },
    releaseLock: () => {
      released = true;
      inner.releaseLock();
    },
    get closed() {
      return inner.closed;
    },
  } as unknown as Reader;
}

const TAP = Symbol('utt.bodyTap');
type TappedStream = ReadableStream<Uint8Array> & { [TAP]: BodyTap };
const streamPrototype = ReadableStream.prototype as ReadableStream<Uint8Array> & AsyncIterable<Uint8Array> & { values(options?: { preventCancel?: boolean }): AsyncIterator<Uint8Array> };
const nativeGetReader = streamPrototype.getReader as (this: ReadableStream<Uint8Array>, options?: { mode?: 'byob' }) => AnyReader;
const nativeCancel = streamPrototype.cancel;

function getTappedReader(this: TappedStream, options?: { mode?: 'byob' }): AnyReader {
  return tappedReader(nativeGetReader.call(this, options), this[TAP]);
}

/**
 * The stream's async iteration (what SDKs and `for await` use), as Node's
 * own: the stream's reader, read through the tap, and freed at the end (so a
 * later read is done at once).
 */
class TappedIterator implements AsyncIterableIterator<Uint8Array> {
  declare private done: boolean;
  declare private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  declare private readonly tap: BodyTap;
  declare private readonly preventCancel: boolean;

  constructor(stream: TappedStream, tap: BodyTap, preventCancel: boolean) {
    this.done = false;
    this.tap = tap;
    this.preventCancel = preventCancel;
    this.reader = nativeGetReader.call(stream) as ReadableStreamDefaultReader<Uint8Array>;
    if (!tap.sync) {
      this.reader.closed.then(
        () => {
          tap.end('end');
          this.free();
        },
        () => {
          // Rejected by our own release (return()): not an end of the body.
          if (this.done) return;
          tap.end('cut');
          this.free();
        },
      );
    }
  }

  private free(): void {
    if (this.done) return;
    this.done = true;
    this.reader.releaseLock();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    const read = this.tap.read(this.reader, undefined);
    if (!this.tap.sync) return read as Promise<IteratorResult<Uint8Array>>;
    // Sync: the tap's derived read saw the end first; free the stream before the caller continues.
    return read.then(
      (result) => {
        if (result.done) this.free();
        return result as IteratorResult<Uint8Array>;
      },
      (error: unknown) => {
        this.free();
        throw error;
      },
    );
  }

  async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    if (!this.done) {
      this.done = true;
      this.tap.end('cut');
      if (!this.preventCancel) await this.reader.cancel(value);
      this.reader.releaseLock();
    }
    return { done: true, value: value as undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function iterateTapped(this: TappedStream, options?: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array> {
  return new TappedIterator(this, this[TAP], options?.preventCancel === true);
}

/** A stream layer over a tapped reader, for the consumers that read a stream's internals directly (pipeTo, pipeThrough, tee). */
function layered(stream: TappedStream): ReadableStream<Uint8Array> {
  const reader = getTappedReader.call(stream) as ReadableStreamDefaultReader<Uint8Array>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadResult;
      try {
        result = await reader.read();
      } catch (error) {
        controller.error(error);
        return;
      }
      if (result.done) controller.close();
      else controller.enqueue(result.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The prototype of an observed body: ReadableStream's, with its reading entry
 * points (getReader, async iteration — which `Response.text()`/`json()` and
 * the SDKs use — cancel, and the piping ones) going through the body's tap.
 * One prototype for every body: observing a body costs one prototype switch
 * and one property, not a set of closures and property definitions.
 */
const tappedPrototype = Object.create(streamPrototype, {
  getReader: { value: getTappedReader, configurable: true, writable: true },
  values: { value: iterateTapped, configurable: true, writable: true },
  [Symbol.asyncIterator]: { value: iterateTapped, configurable: true, writable: true },
  cancel: {
    value(this: TappedStream, reason?: unknown) {
      this[TAP].end('cut');
      return nativeCancel.call(this, reason);
    },
    configurable: true,
    writable: true,
  },
  pipeTo: {
    value(this: TappedStream, ...args: Parameters<ReadableStream['pipeTo']>) {
      return layered(this).pipeTo(...args);
    },
    configurable: true,
    writable: true,
  },
  pipeThrough: {
    value(this: TappedStream, ...args: Parameters<ReadableStream['pipeThrough']>) {
      return layered(this).pipeThrough(...args);
    },
    configurable: true,
    writable: true,
  },
  tee: {
    value(this: TappedStream) {
      return layered(this).tee();
    },
    configurable: true,
    writable: true,
  },
});

/**
 * Observes a response body where it is, with no stream layer: the body stays
 * the very ReadableStream the fetch returned, and only its reading entry
 * points go through the tap (see tappedPrototype). A stream layer costs a
 * pull and several promises per chunk: about 12 µs per chunk on a loaded
 * 2-core machine, 13–18 % of a 201-chunk stream that arrives at once.
 */
function observeBodyInPlace(response: Response, body: ReadableStream<Uint8Array>, tap: BodyTap): Response {
  Object.setPrototypeOf(body, tappedPrototype);
  (body as TappedStream)[TAP] = tap;
  return response;
}

/**
 * The same response with a body that hands on every chunk as it is read
 * (pull-driven: no read-ahead, no copy) and tells `finish` how it ended. A
 * budget that must `raise` errors the body after its last byte.
 */
function observedResponse(response: Response, observe: (chunk: Uint8Array) => void, finish: LayerFinish, headersAt: number): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const layer = { lastReadAt: headersAt };
  const abandonable = abandonedLayer(reader, finish, layer);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        forgetAbandonable(abandonable);
        finish.end('cut');
        controller.error(error);
        return;
      }
      if (result.done) {
        forgetAbandonable(abandonable);
        const failure = finish.end('end');
        if (failure !== undefined && isBudgetError(failure)) controller.error(failure);
        else controller.close();
        return;
      }
      layer.lastReadAt = Date.now();
      try {
        observe(result.value);
      } catch {
        // Observing never breaks the caller's stream.
      }
      controller.enqueue(result.value);
    },
    async cancel(reason) {
      forgetAbandonable(abandonable);
      finish.end('cut');
      await reader.cancel(reason);
    },
  });
  const observed = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(observed, 'url', { value: response.url });
  recordWhenAbandoned(body, abandonable, abandonable);
  return observed;
}

/** How observedResponse's body ends: once, now or at `endedAt`. */
type LayerFinish = { readonly sync: boolean; end(how: Ending, endedAt?: number): unknown };

/**
 * A layered body dropped before its end, garbage collected: the call is
 * recorded as cut (nothing when it ended before: `finish` ends once) at the
 * last chunk the layer read (its headers when none: the layer reads one
 * chunk ahead of the caller, so whether the caller read is not known), and
 * the source body is cancelled. Made here, apart from observedResponse's
 * scope, so it cannot reach the body.
 */
function abandonedLayer(source: ReadableStreamDefaultReader<Uint8Array>, finish: LayerFinish, layer: { lastReadAt: number }): AbandonableCall {
  return {
    abandon() {
      source.cancel().catch(ignore);
      finish.end('cut', layer.lastReadAt);
    },
  };
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

// What readHeaders' walk found so far: module state rather than a closure per call (the walk is synchronous, one at a time).
let walkContentType = '';
let walkRequestId: string | null = null;
let walkPlainRequestId: string | null = null;
let walkRateLimit: Record<string, string> | undefined;

function takeHeader(value: string, name: string): void {
  // Names come lower-cased; the first letter rules out most without a comparison or the expression.
  const first = name.charCodeAt(0);
  if (first === 99) {
    if (name === 'content-type') walkContentType = value;
  } else if (first === 120 || first === 97 || first === 114) {
    if (name === 'x-request-id') walkRequestId = value;
    else if (name === 'request-id') walkPlainRequestId = value;
    if (RATE_LIMIT_HEADER.test(name)) (walkRateLimit ??= {})[name] = value;
  }
}

/** What a call's record takes from its response headers, in one pass over them (each `get` validates and looks up anew). */
function readHeaders(headers: Headers): HeaderFacts {
  walkContentType = '';
  walkRequestId = null;
  walkPlainRequestId = null;
  walkRateLimit = undefined;
  try {
    headers.forEach(takeHeader);
    return { contentType: walkContentType, requestId: walkRequestId ?? walkPlainRequestId, rateLimit: walkRateLimit };
  } finally {
    walkRateLimit = undefined;
  }
}
