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
        const parser = createUsageEventReader((data) => state.event(data), { head: () => state.facts.id !== null, tail: state.complete });
        observe = parser.push;
        finish = (how) => {
          parser.end();
          const done = how === 'end' && state.complete();
          const buckets = state.facts.usage ? anthropicUsageBuckets(state.facts.usage) : { ...NO_USAGE };
          if (!done) buckets.outputTokens = null;
          record(buckets, done ? 'stream' : 'unknown', state.facts.model, state.facts.id, state.facts.serviceTier);
        };
      } else {
        const state = createOpenAIStreamState();
        const parser = createUsageEventReader((data) => state.event(data), { head: () => state.facts.id !== null, tail: () => state.facts.usage !== undefined });
        observe = parser.push;
        finish = () => {
          parser.end();
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
    // An SSE body is hundreds of small chunks: observe it in place (a `.then` per
    // chunk). A JSON body is a few chunks: a stream layer costs nothing there.
    return sse ? observeBodyInPlace(response, observe, finish) : observedResponse(response, observe, finish);
  };
}

/** Bytes of a stream held (as references to the chunks read) before it is parsed as it goes instead. */
const HOLD_BYTES = 1024 * 1024;
/** The first tail read at the end of a stream; quadrupled until it holds what `tail` waits for. */
const TAIL_BYTES = 2048;
const LF_LF = Buffer.from('\n\n');
const LF_CR_LF = Buffer.from('\n\r\n');

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Where the event that goes on at `offset` ends (just past its blank line), or -1 when it does not end in `bytes`. */
function eventEnd(bytes: Buffer, offset: number): number {
  const lf = bytes.indexOf(LF_LF, offset);
  const crlf = bytes.indexOf(LF_CR_LF, offset);
  if (lf === -1) return crlf === -1 ? -1 : crlf + 3;
  return crlf === -1 || lf < crlf ? lf + 2 : crlf + 3;
}

/**
 * Reads the usage events of an SSE stream without parsing its middle. What a
 * provider stream reports about usage is at its start (id, model, Anthropic's
 * message_start) and at its end (OpenAI's usage chunk, response.completed,
 * Anthropic's last message_delta); the content deltas in between are most of
 * its bytes, and decoding and splitting them cost as much as the caller's own
 * parsing. So the first events are parsed as they arrive until `head()` holds;
 * the chunks are only held (references, no copy) while the caller reads; and
 * at the end the last events are parsed, from an event boundary, in a window
 * that grows until `tail()` holds — the whole stream when it never does (a
 * stream without usage). Both state machines are last-write-wins per event, so
 * events seen twice (head and tail of a short stream) leave the same facts.
 * A stream longer than HOLD_BYTES is parsed as it goes, in order, instead.
 */
function createUsageEventReader(onData: (data: string) => void, until: { head: () => boolean; tail: () => boolean }) {
  const onEvent = (event: { data: string }) => onData(event.data);
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let head: ReturnType<typeof createSseParser> | undefined = createSseParser(onEvent);
  let running: ReturnType<typeof createSseParser> | undefined;
  let ended = false;
  return {
    push(chunk: Uint8Array) {
      if (running) {
        running.push(chunk);
        return;
      }
      held.push(chunk);
      heldBytes += chunk.byteLength;
      if (head) {
        // Event by event: a first read may hold the whole stream when it arrived at once.
        const bytes = asBuffer(chunk);
        for (let offset = 0; head && offset < bytes.length; ) {
          const next = eventEnd(bytes, offset);
          head.push(next === -1 ? bytes.subarray(offset) : bytes.subarray(offset, next), next !== -1);
          offset = next === -1 ? bytes.length : next;
          if (until.head()) head = undefined;
        }
      }
      if (heldBytes > HOLD_BYTES) {
        running = createSseParser(onEvent);
        running.push(Buffer.concat(held, heldBytes));
        held = [];
        head = undefined;
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
      for (let window = TAIL_BYTES; ; window *= 4) {
        let first = held.length;
        let bytes = 0;
        while (first > 0 && bytes < window) {
          first -= 1;
          bytes += (held[first] as Uint8Array).byteLength;
        }
        const joined = first === held.length - 1 ? asBuffer(held[first] as Uint8Array) : Buffer.concat(held.slice(first), bytes);
        const whole = first === 0 && bytes <= window;
        let text = whole ? joined : joined.subarray(joined.length - window);
        if (!whole) {
          // Resume at the first event boundary: what comes before it is the end of an event cut by the window.
          const boundary = eventEnd(text, 0);
          if (boundary === -1) continue;
          text = text.subarray(boundary);
        }
        const tail = createSseParser(onEvent);
        tail.push(text, true);
        tail.end();
        if (whole || until.tail()) break;
      }
      held = [];
    },
  };
}

/** Runs `finish` once, with how the body ended; returns what it threw (a `raise` budget's error). */
function finisher(finish: (how: 'end' | 'cut') => void): (how: 'end' | 'cut') => unknown {
  let finished = false;
  return (how) => {
    if (finished) return undefined;
    finished = true;
    try {
      finish(how);
    } catch (error) {
      return error;
    }
    return undefined;
  };
}

type AnyReader = ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/**
 * A reader over `inner` that hands each chunk to `observe` as the caller
 * receives it: one `.then` per read, nothing else between the caller and the
 * bytes. The end (or a read error, or a cancel) goes to `end`; a budget that
 * must `raise` rejects the read that would have reported the end.
 */
function observingReader<Reader extends AnyReader>(inner: Reader, observe: (chunk: Uint8Array) => void, end: (how: 'end' | 'cut') => unknown): Reader {
  const onRead = (result: ReadResult) => {
    if (result.done) {
      const failure = end('end');
      if (failure !== undefined && isBudgetError(failure)) throw failure;
      return result;
    }
    try {
      observe(result.value);
    } catch {
      // Observing never breaks the caller's stream.
    }
    return result;
  };
  const onError = (error: unknown) => {
    end('cut');
    throw error;
  };
  return {
    read: (view?: ArrayBufferView) => (view === undefined ? (inner as ReadableStreamDefaultReader<Uint8Array>).read() : (inner as ReadableStreamBYOBReader).read(view as Uint8Array)).then(onRead, onError),
    cancel: (reason?: unknown) => {
      end('cut');
      return inner.cancel(reason);
    },
    releaseLock: () => inner.releaseLock(),
    get closed() {
      return inner.closed;
    },
  } as unknown as Reader;
}

/**
 * Observes a response body where it is, with no stream layer: the body stays
 * the very ReadableStream the fetch returned, and its reading entry points
 * (getReader, async iteration, which `Response.text()`/`json()` and the SDKs
 * use) are replaced on that one object by observing versions. pipeTo,
 * pipeThrough and tee read through a stream layer over the observing reader
 * (they would otherwise read the stream's internals directly). A stream layer
 * costs a pull and several promises per chunk: about 12 µs per chunk on a
 * loaded 2-core machine, 13–18 % of a 201-chunk stream that arrives at once.
 */
function observeBodyInPlace(response: Response, observe: (chunk: Uint8Array) => void, finish: (how: 'end' | 'cut') => void): Response {
  const body = response.body as ReadableStream<Uint8Array>;
  const end = finisher(finish);
  const original = {
    getReader: body.getReader,
    cancel: body.cancel,
    pipeTo: body.pipeTo,
    pipeThrough: body.pipeThrough,
    tee: body.tee,
  };
  const getReader = (options?: { mode?: 'byob' }) => observingReader(original.getReader.call(body, options as never) as AnyReader, observe, end);
  const iterate = (options?: { preventCancel?: boolean }) => {
    // The stream's own reader and one `.then` per chunk that observes and hands the read result on as it is.
    const reader = original.getReader.call(body) as ReadableStreamDefaultReader<Uint8Array>;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      reader.releaseLock();
    };
    const onRead = (result: ReadResult): ReadResult => {
      if (result.done) {
        release();
        const failure = end('end');
        if (failure !== undefined && isBudgetError(failure)) throw failure;
        return result;
      }
      try {
        observe(result.value);
      } catch {
        // Observing never breaks the caller's stream.
      }
      return result;
    };
    const onError = (error: unknown) => {
      release();
      end('cut');
      throw error;
    };
    return {
      next: () => reader.read().then(onRead, onError),
      async return(value?: unknown) {
        if (!released) {
          end('cut');
          if (!options?.preventCancel) await reader.cancel(value);
          release();
        }
        return { done: true as const, value };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  // A stream layer over the observing reader, for the consumers that bypass getReader.
  const layered = (): ReadableStream<Uint8Array> => {
    const reader = getReader() as ReadableStreamDefaultReader<Uint8Array>;
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
  };
  Object.defineProperties(body, {
    getReader: { value: getReader, configurable: true, writable: true },
    values: { value: iterate, configurable: true, writable: true },
    [Symbol.asyncIterator]: { value: iterate, configurable: true, writable: true },
    cancel: {
      value: (reason?: unknown) => {
        end('cut');
        return original.cancel.call(body, reason);
      },
      configurable: true,
      writable: true,
    },
    pipeTo: { value: (...args: Parameters<ReadableStream['pipeTo']>) => layered().pipeTo(...args), configurable: true, writable: true },
    pipeThrough: { value: (...args: Parameters<ReadableStream['pipeThrough']>) => layered().pipeThrough(...args), configurable: true, writable: true },
    tee: { value: () => layered().tee(), configurable: true, writable: true },
  });
  return response;
}

/**
 * The same response with a body that hands on every chunk as it is read
 * (pull-driven: no read-ahead, no copy) and tells `finish` how it ended. A
 * budget that must `raise` errors the body after its last byte.
 */
function observedResponse(response: Response, observe: (chunk: Uint8Array) => void, finish: (how: 'end' | 'cut') => void): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const end = finisher(finish);
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
