import { AsyncLocalStorage } from 'node:async_hooks';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../create-tracker';
import { startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackStream } from '../track-stream';
import { uttMiddleware } from './ai-sdk';
import { trackAnthropic } from './anthropic';
import { trackFetch } from './fetch';
import { trackOpenAI } from './openai';

// A service's own request context, which its defaultTags function reads (as a logger's or a tracing library's would).
const requestContext = new AsyncLocalStorage<string>();

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let tracker: Tracker;
let calls: TrackedCall[];

beforeAll(async () => {
  fake = await startFakeProvider({ chunkBytes: 64 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  tracker = await createTracker({
    application: 'test-app',
    prices: testPrices(),
    flushOnExit: false,
    defaultTags: () => ({ request: requestContext.getStore() ?? 'none' }),
  });
  calls = [];
  tracker.subscribe((call) => calls.push(call));
});

/** Starts a streamed call in request `name` (with a scoped tag of its own); returns how to read it to its end. */
type StartStream = () => Promise<() => Promise<void>>;

/**
 * Two concurrent requests whose streams end in the other's async context: A's
 * stream is read (and the pending records drained) inside request B and the
 * reverse, as happens when a stream is handed to whatever code runs next.
 */
async function crossedRequests(start: StartStream): Promise<Array<Record<string, string>>> {
  const inRequest = <T>(name: string, fn: () => Promise<T>) => requestContext.run(name, () => tracker.withTags({ tenant: `tenant-${name}` }, fn));
  const [readA, readB] = await Promise.all([inRequest('A', start), inRequest('B', start)]);
  await Promise.all([
    inRequest('B', async () => {
      await readA();
      tracker.totals();
    }),
    inRequest('A', async () => {
      await readB();
      tracker.totals();
    }),
  ]);
  await requestContext.run('C', () => tracker.flush());
  return calls.map((call) => call.tags as Record<string, string>).sort((left, right) => (left.tenant as string).localeCompare(right.tenant as string));
}

const expected = [
  { request: 'A', tenant: 'tenant-A' },
  { request: 'B', tenant: 'tenant-B' },
];

describe('default tags from a function, and scoped tags, belong to the request that made the call', () => {
  it('through trackOpenAI (a streamed chat completion)', async () => {
    const client = trackOpenAI(new OpenAI({ apiKey: 'sk-test-not-a-secret', baseURL: `${fake.url}/v1` }), tracker);
    const tags = await crossedRequests(async () => {
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true, stream_options: { include_usage: true } });
      return async () => {
        for await (const _ of stream) {
          // read to the end
        }
      };
    });
    expect(tags).toEqual(expected);
  });

  it('through trackAnthropic (a streamed message)', async () => {
    const client = trackAnthropic(new Anthropic({ apiKey: 'sk-ant-test-not-a-secret', baseURL: fake.url }), tracker);
    const tags = await crossedRequests(async () => {
      const stream = await client.messages.create({ model: 'claude-test', max_tokens: 64, messages: [], stream: true });
      return async () => {
        for await (const _ of stream) {
          // read to the end
        }
      };
    });
    expect(tags).toEqual(expected);
  });

  it('through trackFetch (an SSE body read with a reader)', async () => {
    const fetch = trackFetch(tracker);
    const body = JSON.stringify({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] });
    const tags = await crossedRequests(async () => {
      const response = await fetch(`${fake.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return async () => {
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        while (!(await reader.read()).done) {
          // read to the end
        }
      };
    });
    expect(tags).toEqual(expected);
  });

  it('through the AI SDK middleware (a stream whose finish part is read elsewhere)', async () => {
    const middleware = uttMiddleware(tracker);
    const tags = await crossedRequests(async () => {
      const parts = [
        { type: 'response-metadata', id: 'r', modelId: 'gpt-test' },
        { type: 'finish', usage: { inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1 } } },
      ];
      const { stream } = await middleware.wrapStream({
        doGenerate: async () => ({}),
        doStream: async () => ({
          stream: new ReadableStream({
            start(controller) {
              for (const part of parts) controller.enqueue(part);
              controller.close();
            },
          }),
        }),
        params: {},
        model: { provider: 'openai.chat', modelId: 'gpt-test' },
      });
      return async () => {
        const reader = stream.getReader();
        while (!(await reader.read()).done) {
          // read to the end
        }
      };
    });
    expect(tags).toEqual(expected);
  });

  it('through trackStream (a client the tracker does not wrap)', async () => {
    const tags = await crossedRequests(async () => {
      const collector = trackStream(tracker, { provider: 'openai', model: 'gpt-test' });
      return async () => {
        collector.event('{"id":"x","model":"gpt-test","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1}}');
        collector.end();
      };
    });
    expect(tags).toEqual(expected);
  });
});
