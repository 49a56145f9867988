import { AdapterHttpError, z } from '@utt/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext } from './create-test-context';
import { type FakeServer, startFakeServer } from './start-fake-server';

describe('createTestContext', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('passes config, env, now and sourceName through, and captures log lines', () => {
    const now = new Date('2026-05-01T12:00:00Z');
    const context = createTestContext({ config: { a: 1 }, env: { KEY: 'value' }, now, sourceName: 'mine' });
    context.logger.warn('careful', { attempt: 2 });

    expect(context.config).toEqual({ a: 1 });
    expect(context.env.KEY).toBe('value');
    expect(context.now()).toEqual(now);
    expect(context.now()).not.toBe(context.now());
    expect(context.sourceName).toBe('mine');
    expect(context.logs).toEqual([{ level: 'warn', message: 'careful', fields: { attempt: 2 } }]);
  });

  it('aborts its signal on abort()', () => {
    const context = createTestContext({ config: {} });
    expect(context.signal.aborted).toBe(false);
    context.abort();
    expect(context.signal.aborted).toBe(true);
  });

  it("uses core's HTTP client: retries a 503 and logs the retry", async () => {
    let calls = 0;
    server = await startFakeServer(() => (++calls === 1 ? { status: 503, body: '{}' } : { status: 200, body: '{"ok":true}' }));
    const context = createTestContext({ config: {} });

    const body = await context.http.requestJson({ url: `${server.baseUrl}/x`, schema: z.object({ ok: z.boolean() }) });

    expect(body).toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(context.logs.map((line) => line.message)).toEqual(['retrying HTTP call']);
  });

  it('applies the HTTP deadline it is given', async () => {
    server = await startFakeServer(() => new Promise(() => {}));
    const context = createTestContext({ config: {}, http: { deadlineMs: 100, maxAttempts: 1 } });
    const startedAt = performance.now();

    const error = await context.http.requestText({ url: `${server.baseUrl}/slow` }).catch((caught: unknown) => caught);

    expect(AdapterHttpError.isInstance(error) && error.failure).toBe('deadline');
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });
});
