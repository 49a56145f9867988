import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ConfigValidationError, type TrackedCallV1, type TrackerSinkV1 } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { createTracker } from './create-tracker';
import { testPrices } from './test-support/test-prices';
import type { TrackedCall } from './tracked-call';

const base = { application: 'billing-api', instance: 'host-1', prices: testPrices(), flushOnExit: false } as const;

/** Runs `script` as an ES module in a Node process of its own: its exit code and what it printed. */
function runModuleScript(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (data: Buffer) => {
      text += data.toString();
    });
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve({ code: exitCode, output: text }));
  });
}

function memorySink(): TrackerSinkV1 & { calls: TrackedCallV1[]; writes: number; fail: boolean } {
  const sink = {
    specificationVersion: 'v1' as const,
    calls: [] as TrackedCallV1[],
    writes: 0,
    fail: false,
    async write(calls: readonly TrackedCallV1[]) {
      if (sink.fail) throw new Error('connection refused');
      sink.writes += 1;
      for (const call of calls) sink.calls.push(call);
    },
  };
  return sink;
}

describe('record()', () => {
  it('prices every bucket at its own rate and keeps unreported counts NULL', async () => {
    const tracker = await createTracker(base);
    const call = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1000, outputTokens: 500, cachedReadTokens: 2000 });
    // 1000 × $2/M + 500 × $8/M + 2000 × $0.5/M = 0.002 + 0.004 + 0.001
    expect(call.costUsd).toBe('0.007');
    expect(call.cachedWriteTokens).toBeNull();
    expect(call.reasoningTokens).toBeNull();
    expect(call.usageOrigin).toBe('manual');
    expect(call.sourceSystem).toBe('billing-api');
    expect(call.sourceInstance).toBe('host-1');
    expect(call.priceRef).toMatch(/^config:openai\/gpt-test@/);
    await tracker.shutdown();
  });

  it('leaves an unknown model unpriced with its reason, never $0', async () => {
    const tracker = await createTracker(base);
    const call = tracker.record({ provider: 'openai', model: 'no-such-model', inputTokens: 10, outputTokens: 1 });
    expect(call.costUsd).toBeNull();
    expect(call.unpricedReason).toBe('no_price');
    const unknown = tracker.record({ provider: 'openai', model: 'gpt-test', usageOrigin: 'unknown', streaming: true });
    expect(unknown.costUsd).toBeNull();
    expect(unknown.unpricedReason).toBe('usage_unknown');
    expect(tracker.totals()).toMatchObject({ calls: 2, unpricedCalls: 2, unknownUsageCalls: 1, costUsd: 0 });
    await tracker.shutdown();
  });

  it('applies the service tier the response reports (flex is half price) and makes it a label', async () => {
    const tracker = await createTracker(base);
    const call = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1_000_000, outputTokens: 0, serviceTier: 'flex' });
    expect(call.costUsd).toBe('1');
    expect(call.labels).toEqual({ service_tier: 'flex' });
    expect(tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, serviceTier: 'default' }).serviceTier).toBe('');
    await tracker.shutdown();
  });

  it('counts a response id once (a retried record)', async () => {
    const tracker = await createTracker(base);
    const first = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 10, responseId: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT' });
    const again = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 10, responseId: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT' });
    expect(again.eventId).toBe(first.eventId);
    expect(tracker.totals().calls).toBe(1);
    expect(tracker.stats().duplicates).toBe(1);
    await tracker.shutdown();
  });

  it('records every call of a server that reuses response ids (Ollama: chatcmpl-0…998), and a distinct call under a reused long id', async () => {
    const tracker = await createTracker(base);
    for (let index = 0; index < 3000; index += 1) {
      tracker.record({ provider: 'ollama', model: 'llama3', inputTokens: 10, outputTokens: 1, responseId: `chatcmpl-${index % 999}` });
    }
    // The same id twice with the same counts (a mock's or a cache's constant id) is one call; other counts, another.
    const longId = '8c2d5b0e4f6a4d2b9e7f1a3c5b7d9e0f';
    tracker.record({ provider: 'vllm', model: 'qwen', inputTokens: 10, outputTokens: 1, responseId: longId });
    tracker.record({ provider: 'vllm', model: 'qwen', inputTokens: 10, outputTokens: 1, responseId: longId });
    tracker.record({ provider: 'vllm', model: 'qwen', inputTokens: 12, outputTokens: 1, responseId: longId });
    expect(tracker.totals().calls).toBe(3002);
    expect(tracker.stats()).toMatchObject({ recorded: 3002, duplicates: 1 });
    await tracker.shutdown();
  });

  it('names the field of bad manual input', async () => {
    const tracker = await createTracker(base);
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: -1 })).toThrow(/inputTokens/);
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', outputTokens: 1.5 })).toThrow(/outputTokens/);
    expect(() => tracker.record({ provider: '', model: 'x' })).toThrow(/provider/);
    await tracker.shutdown();
  });

  it('refuses an occurredAt that is not a valid Date, before it reaches the queue (the store refuses it, and the whole batch with it, on every retry)', async () => {
    const writes: number[] = [];
    const tracker = await createTracker({
      ...base,
      sink: { specificationVersion: 'v1', write: async (calls) => void writes.push(calls.length), readSpend: async (queries) => queries.map(() => '0') },
      flushIntervalMs: 60_000,
      flushOnExit: false,
    });
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1, occurredAt: new Date(Number.NaN) })).toThrow(/occurredAt/);
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1, occurredAt: '2026-11-03T10:00:00Z' as unknown as Date })).toThrow(/occurredAt/);
    const at = new Date('2026-11-03T10:00:00Z');
    expect(tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1, occurredAt: at }).occurredAt).toBe(at);
    await tracker.shutdown();
    expect(writes).toEqual([1]);
    expect(tracker.stats()).toMatchObject({ recorded: 1, written: 1, dropped: 0 });
  });
});

describe('tags', () => {
  it('merges default (static or function), scoped and explicit tags, the innermost winning', async () => {
    let request = 0;
    const tracker = await createTracker({ ...base, defaultTags: () => ({ env: 'prod', request: String(++request) }), labelTags: ['tenant'] });
    const call = tracker.withTags({ tenant: 'acme', feature: 'chat' }, () =>
      tracker.withTags({ feature: 'search' }, () => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, tags: { user: 'u1' } })),
    );
    expect(call.tags).toEqual({ env: 'prod', request: '1', tenant: 'acme', feature: 'search', user: 'u1' });
    expect(call.labels).toEqual({ tenant: 'acme' });
    await tracker.shutdown();
  });

  it('never carries a tag one call was given into the next: a subscriber cannot write into the default tags later calls share (frozen, as scoped tags are)', async () => {
    const defaults = { env: 'prod' };
    const tracker = await createTracker({ ...base, defaultTags: defaults });
    tracker.subscribe((call) => {
      // A subscriber that enriches what it exports, in place (plain JavaScript: nothing stops it).
      if (call.responseId === 'r1') (call.tags as Record<string, string>).tenant = 'acme';
    });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, responseId: 'r1' });
    const next = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, responseId: 'r2' });
    expect(next.tags).toEqual({ env: 'prod' });
    expect(defaults).toEqual({ env: 'prod' });
    // The write threw inside the subscriber: isolated and counted, the call recorded.
    expect(tracker.stats()).toMatchObject({ subscriberErrors: 1, recorded: 2 });
    await tracker.shutdown();
  });

  it('never leaks between concurrent async contexts', async () => {
    const tracker = await createTracker(base);
    const seen: Array<[string, string | undefined]> = [];
    tracker.subscribe((call) => seen.push([call.responseId as string, call.tags.tenant]));
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        tracker.withTags({ tenant: `t${index}` }, async () => {
          await sleep(Math.random() * 10);
          await Promise.resolve();
          tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, responseId: `r${index}` });
        }),
      ),
    );
    expect(seen).toHaveLength(50);
    for (const [id, tenant] of seen) expect(tenant).toBe(`t${id.slice(1)}`);
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, responseId: 'outside' });
    expect(seen.at(-1)).toEqual(['outside', undefined]);
    await tracker.shutdown();
  });
});

describe('subscribers and totals', () => {
  it('isolates and counts a throwing subscriber; unsubscribe stops delivery', async () => {
    const tracker = await createTracker(base);
    const got: TrackedCall[] = [];
    tracker.subscribe(() => {
      throw new Error('billing webhook down');
    });
    const unsubscribe = tracker.subscribe((call) => got.push(call));
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    unsubscribe();
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    expect(got).toHaveLength(1);
    expect(tracker.stats().subscriberErrors).toBe(2);
    await tracker.shutdown();
  });

  it('keeps running totals overall, per model, per agent and per thread', async () => {
    const tracker = await createTracker(base);
    tracker.withContext({ agentId: 'planner', threadId: 'th-1' }, () => {
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 100, outputTokens: 10, cachedReadTokens: 50, latencyMs: 20 });
      tracker.record({ provider: 'anthropic', model: 'claude-test', inputTokens: 10, outputTokens: 5, latencyMs: 40 });
    });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1, agentId: 'coder' });
    expect(tracker.totals()).toMatchObject({ calls: 3, inputTokens: 111, outputTokens: 16, cachedReadTokens: 50, totalTokens: 177, latencyMs: 60 });
    expect(tracker.totalsByModel()['gpt-test']).toMatchObject({ calls: 2, inputTokens: 101 });
    expect(Object.keys(tracker.totalsByAgent()).sort()).toEqual(['coder', 'planner']);
    expect(tracker.totalsByThread()['th-1']).toMatchObject({ calls: 2, totalTokens: 175 });
    expect(tracker.totals().costUsd).toBeCloseTo(0.000200 + 0.00008 + 0.000025 + 0.00003 + 0.000075 + 0.000002 + 0.000008, 9);
    await tracker.shutdown();
  });
});

describe('threads are kept for a bounded time and number', () => {
  const record = (tracker: Awaited<ReturnType<typeof createTracker>>, threadId: string) =>
    tracker.withContext({ threadId }, () => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 10, outputTokens: 1 }));

  it('forgets an ended thread: its totals and its thread-budget entry', async () => {
    const tracker = await createTracker({ ...base, threadBudget: { defaultMaxTokens: 1000 } });
    record(tracker, 'th-1');
    expect(tracker.totalsByThread()['th-1']).toMatchObject({ calls: 1, totalTokens: 11 });
    expect(tracker.threads.usage('th-1')).toMatchObject({ usedTokens: 11 });
    tracker.threads.end('th-1');
    expect(tracker.totalsByThread()).toEqual({});
    expect(tracker.threads.size()).toBe(0);
    await tracker.runThread('th-2', async () => record(tracker, 'th-2'));
    expect(tracker.totalsByThread()).toEqual({});
    expect(tracker.threads.size()).toBe(0);
    // Overall totals keep every call.
    expect(tracker.totals().calls).toBe(2);
    await tracker.shutdown();
  });

  it('keeps a thread, its limit and its tokens while another runThread of it is under way', async () => {
    const tracker = await createTracker({ ...base });
    let firstEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      firstEnded = resolve;
    });
    // Two requests of one agent session, each in runThread: the first ends while the second still works.
    const first = tracker.runThread('session', async () => record(tracker, 'session'), { maxTokens: 15 });
    const second = tracker.runThread(
      'session',
      async () => {
        await ended;
        expect(tracker.threads.usage('session')).toMatchObject({ usedTokens: 11, maxTokens: 15 });
        record(tracker, 'session');
        // 22 of 15 tokens used: the session's next call is refused.
        return tracker.admit({ provider: 'openai', model: 'gpt-test' }).then(
          () => 'sent',
          (error: unknown) => (error instanceof Error ? error.name : 'other'),
        );
      },
      { maxTokens: 15 },
    );
    await first;
    firstEnded();
    expect(await second).toBe('UTT_BudgetExhaustedError');
    expect(tracker.threads.size()).toBe(0);
    await tracker.shutdown();
  });

  it('forgets a thread never ended after threadIdleTimeoutMs without calls, unless registered', async () => {
    let clock = Date.parse('2026-12-07T10:00:00Z');
    const tracker = await createTracker({ ...base, now: () => new Date(clock), threadIdleTimeoutMs: 60_000 });
    record(tracker, 'idle');
    tracker.threads.register('registered', 500);
    record(tracker, 'busy');
    clock += 45_000;
    record(tracker, 'busy');
    clock += 30_000;
    record(tracker, 'new');
    expect(Object.keys(tracker.totalsByThread()).sort()).toEqual(['busy', 'new']);
    expect(tracker.threads.usage('idle')).toBeUndefined();
    expect(tracker.threads.usage('registered')).toMatchObject({ maxTokens: 500 });
    await tracker.shutdown();
  });

  it('keeps at most maxThreads, the least recently used forgotten first, never one whose runThread is under way', async () => {
    const tracker = await createTracker({ ...base, maxThreads: 100 });
    await tracker.runThread('session', async () => {
      record(tracker, 'session');
      for (let index = 0; index < 10_000; index += 1) record(tracker, `th-${index}`);
      expect(tracker.threads.usage('session')).toMatchObject({ usedTokens: 11 });
      expect(tracker.totalsByThread().session).toMatchObject({ calls: 1 });
    });
    const kept = Object.keys(tracker.totalsByThread());
    expect(kept).toHaveLength(99);
    expect(kept[0]).toBe('th-9901');
    expect(tracker.threads.size()).toBe(99);
    expect(tracker.totals().calls).toBe(10_001);
    await tracker.shutdown();
  });
});

describe('the queue', () => {
  it('flushes on batch size, on the timer and on shutdown', async () => {
    const sink = memorySink();
    const tracker = await createTracker({ ...base, sink, batchSize: 3, flushIntervalMs: 50 });
    for (let index = 0; index < 3; index += 1) tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    await sleep(5);
    expect(sink.calls).toHaveLength(3);
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    expect(sink.calls).toHaveLength(3);
    await sleep(120);
    expect(sink.calls).toHaveLength(4);
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    await tracker.shutdown();
    expect(sink.calls).toHaveLength(5);
  });

  it.each([
    { flushOnExit: true, written: ['wrote 2'] },
    { flushOnExit: false, written: [] },
  ])('never holds the process: a process with calls pending and a 60 s flush timer exits on its own at once (flushOnExit $flushOnExit)', async ({ flushOnExit, written }) => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    // Fails, never skips: `turbo run test` builds dist first; a bare `vitest run` needs `pnpm build` before it.
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/tracker (or \`pnpm turbo run test\`, which builds it) first`);
    const script = `
      const { createTracker } = await import(${JSON.stringify(dist)});
      const sink = { specificationVersion: 'v1', async write(calls) { await new Promise((resolve) => setTimeout(resolve, 20)); console.log('wrote ' + calls.length); } };
      const tracker = await createTracker({ application: 'exit-test', sink, batchSize: 500, flushIntervalMs: 60000, flushOnExit: ${flushOnExit} });
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 2 });
      console.log('pending ' + tracker.stats().pending);
    `;
    const started = Date.now();
    const { code, output } = await runModuleScript(script);
    expect(code).toBe(0);
    // Far less than the 60 s interval: neither the flush timer nor the tracker keeps the event loop alive.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(output.trim().split('\n')).toEqual(['pending 2', ...written]);
  }, 30_000);

  it('exits when the sink is down: the flush on exit is tried once, not again at every beforeExit it leads to, and what it leaves is logged', async () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/tracker (or \`pnpm turbo run test\`, which builds it) first`);
    // A database that is down fails each write after a round trip (a socket, an event-loop turn), as a timer does here.
    const script = `
      const { createTracker } = await import(${JSON.stringify(dist)});
      let attempts = 0;
      const sink = { specificationVersion: 'v1', async write() { attempts += 1; await new Promise((resolve) => setTimeout(resolve, 5)); throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } };
      const logger = { debug() {}, info() {}, warn() {}, error(message, fields) { console.log('error ' + message + ' ' + JSON.stringify(fields)); } };
      const tracker = await createTracker({ application: 'exit-test', sink, flushIntervalMs: 60000, logger });
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 2 });
      process.on('exit', () => console.log('attempts ' + attempts));
      setTimeout(() => process.exit(3), 5000).unref();
    `;
    const { code, output } = await runModuleScript(script);
    expect(code).toBe(0);
    expect(output.trim().split('\n')).toEqual([
      'error utt tracker: the process is exiting with tracked calls not written: the flush on exit failed (shutdown() retries until its timeoutMs) {"unwritten":2,"error":"connect ECONNREFUSED 127.0.0.1:5432"}',
      'attempts 1',
    ]);
  }, 30_000);

  it('rejects queue and budget timing options that cannot work, naming them (a batchSize of 0 wrote empty batches forever)', async () => {
    const sink = memorySink();
    for (const [option, value] of [
      ['batchSize', 0],
      ['batchSize', Number.NaN],
      ['batchSize', 2.5],
      ['maxQueueSize', -1],
      ['flushIntervalMs', -5],
      ['budgetRefreshIntervalMs', 0],
      ['budgetHoldTimeoutMs', Number.NaN],
    ] as const) {
      const error = await createTracker({ ...base, sink, [option]: value }).catch((caught: unknown) => caught);
      expect([option, value, ConfigValidationError.isInstance(error) && (error as Error).message.includes(`${option}:`)]).toEqual([option, value, true]);
    }
    expect(sink.writes).toBe(0);
  });

  it('counts the calls the sink refuses on purpose (an hour the ledger has pruned) as dropped, not written, and does not retry them', async () => {
    const sink = memorySink();
    const refusing: TrackerSinkV1 = {
      specificationVersion: 'v1',
      async write(calls) {
        await sink.write(calls);
        return { refused: 1 };
      },
    };
    const tracker = await createTracker({ ...base, sink: refusing, batchSize: 10 });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 2 });
    await tracker.flush();
    await tracker.flush();
    expect(sink.writes).toBe(1);
    expect(tracker.stats()).toMatchObject({ pending: 0, written: 1, dropped: 1 });
    await tracker.shutdown();
  });

  it('holds calls while the sink fails, retries them in order, and counts what the bound drops', async () => {
    const sink = memorySink();
    sink.fail = true;
    const tracker = await createTracker({ ...base, sink, batchSize: 2, flushIntervalMs: 10, maxQueueSize: 5 });
    for (let index = 0; index < 8; index += 1) tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: index + 1 });
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ pending: 5, dropped: 3, written: 0 });
    expect(tracker.stats().lastError).toBe('connection refused');
    sink.fail = false;
    await tracker.flush();
    expect(sink.calls.map((call) => call.inputTokens)).toEqual([1, 2, 3, 4, 5]);
    expect(tracker.stats()).toMatchObject({ pending: 0, dropped: 3, written: 5 });
    await tracker.shutdown();
  });

  it('reports what shutdown could not write as dropped', async () => {
    const sink = memorySink();
    sink.fail = true;
    const tracker = await createTracker({ ...base, sink });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    await tracker.shutdown({ timeoutMs: 50 });
    expect(tracker.stats()).toMatchObject({ pending: 0, dropped: 1 });
  });

  it('counts a call recorded after shutdown as dropped, with a warning, rather than leaving it queued for a write that never comes', async () => {
    const sink = memorySink();
    const warnings: string[] = [];
    const tracker = await createTracker({ ...base, sink, flushIntervalMs: 10, logger: { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {} } });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    await tracker.shutdown();
    // A stream that ends after the service's shutdown handler ran.
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 2 });
    await sleep(50);
    expect(sink.calls.map((call) => call.inputTokens)).toEqual([1]);
    expect(tracker.stats()).toMatchObject({ pending: 0, written: 1, dropped: 1, recorded: 2 });
    expect(warnings).toEqual(['utt tracker: a call was recorded after shutdown(); it is not written (counted as dropped)']);
  });

  it('returns from shutdown by its deadline when a write never settles (a database that stops answering), counting the calls as dropped', async () => {
    let writes = 0;
    let answer: (() => void) | undefined;
    const errors: string[] = [];
    const silent: TrackerSinkV1 = {
      specificationVersion: 'v1',
      write: () => {
        writes += 1;
        return new Promise<void>((resolve) => {
          answer = resolve;
        });
      },
    };
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string, fields?: Record<string, unknown>) => errors.push(`${message} ${JSON.stringify(fields)}`) };
    const tracker = await createTracker({ ...base, sink: silent, batchSize: 2, logger });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1 });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 2 });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 3 });
    const started = Date.now();
    const outcome = await Promise.race([tracker.shutdown({ timeoutMs: 200 }).then(() => 'returned'), sleep(3000).then(() => 'hung')]);
    expect(outcome).toBe('returned');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(writes).toBe(1);
    expect(tracker.stats()).toMatchObject({ pending: 0, dropped: 3, written: 0 });
    expect(errors).toEqual(['utt tracker: shutdown could not write every tracked call {"dropped":3,"error":"a write was still under way after 200 ms"}']);
    // The database answers at last: nothing is counted twice, and the queue stays empty.
    answer?.();
    await sleep(10);
    expect(tracker.stats()).toMatchObject({ pending: 0, dropped: 3, written: 0 });
  });
});
