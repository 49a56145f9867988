import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../budget/budget-exceeded-error';
import { createTracker, type Tracker } from '../create-tracker';
import { FIXTURES, startFakeProvider } from '../test-support/fake-provider';
import { testPrices } from '../test-support/test-prices';
import type { TrackedCall } from '../tracked-call';
import { trackFetch } from './fetch';

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let tracker: Tracker;
let calls: TrackedCall[];

beforeAll(async () => {
  fake = await startFakeProvider({ chunkBytes: 3 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  tracker = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false });
  calls = [];
  tracker.subscribe((call) => calls.push(call));
});

const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function readAll(response: Response): Promise<{ bytes: Buffer; chunks: number }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe('trackFetch (any OpenAI-compatible endpoint)', () => {
  it('hands the caller an SSE stream byte for byte, as it arrives, and records it when it ends', async () => {
    const fetch = trackFetch(tracker, { provider: 'openrouter' });
    const response = await fetch(`${fake.url}/api/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.url).toBe(`${fake.url}/api/v1/chat/completions`);
    const { bytes, chunks } = await readAll(response);
    expect(bytes.equals(FIXTURES.chatStreamUsage)).toBe(true);
    expect(chunks).toBeGreaterThan(10);
    expect(calls[0]).toMatchObject({ provider: 'openrouter', model: 'gpt-test', inputTokens: 50, outputTokens: 20, usageOrigin: 'stream', costUsd: '0.00026' });
  });

  it('hands a JSON body on unchanged and records it', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(new URL(`${fake.url}/v1/responses`), post({ model: 'gpt-test', input: 'x' }));
    const text = await response.text();
    expect(text).toBe(FIXTURES.responses.toString('utf8'));
    expect(calls[0]).toMatchObject({ provider: 'openai', operation: 'responses', usageOrigin: 'response', inputTokens: 1000 });
  });

  it('reads an Anthropic stream through a Request object', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(new Request(`${fake.url}/v1/messages`, post({ model: 'claude-test', stream: true, max_tokens: 5, messages: [] })));
    const { bytes } = await readAll(response);
    expect(bytes.equals(FIXTURES.anthropicStream)).toBe(true);
    expect(calls[0]).toMatchObject({ provider: 'anthropic', outputTokens: 42, cachedWrite1hTokens: 500 });
  });

  it('leaves other requests alone and records nothing for a failed one', async () => {
    const fetch = trackFetch(tracker);
    const missing = await fetch(`${fake.url}/v1/models`);
    expect(missing.status).toBe(404);
    const limited = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test-429', messages: [] }));
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(calls).toHaveLength(0);
  });

  it('records a stream the caller cancels as usage "unknown"', async () => {
    const fetch = trackFetch(tracker);
    const response = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    expect(calls[0]).toMatchObject({ usageOrigin: 'unknown', outputTokens: null });
  });

  it('rejects with BudgetExceededError before sending when a per-call block budget cannot fit the worst case', async () => {
    const budgeted = await createTracker({ application: 'test-app', prices: testPrices(), flushOnExit: false, budgets: [{ period: 'call', limitUsd: 0.01, behavior: 'block' }] });
    const fetch = trackFetch(budgeted);
    const before = fake.requests.length;
    // 2000 output tokens × $8/M = $0.016 > $0.01.
    const error = await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', max_tokens: 2000, messages: [] })).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(fake.requests.length).toBe(before);
    await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', max_tokens: 100, messages: [] })).then((response) => response.text());
    expect(budgeted.totals().calls).toBe(1);
    await budgeted.shutdown();
  });
});
