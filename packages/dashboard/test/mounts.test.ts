import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardHandler, DashboardExposureError, serveDashboard, toNodeListener } from '../src/index';
import { SEED_NOW, seedDashboard } from './seed-dashboard';
import { openTestStore, type TestStore } from './test-stores';

const TOKEN = 'mount-test-token-0123456789';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** fetch() will not send a foreign Host header; a DNS-rebinding page's request does. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('mounting the dashboard', () => {
  let testStore: TestStore;
  beforeAll(async () => {
    testStore = await openTestStore('pglite');
    await seedDashboard(testStore.store);
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('on plain node:http', async () => {
    const handler = createDashboardHandler({ store: testStore.store, now: () => SEED_NOW });
    const server = createServer(toNodeListener(handler));
    const base = await listen(server);
    try {
      const page = await fetch(`${base}/sources`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<h1>Sources</h1>');
      const css = await fetch(`${base}/style.css`);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status).toBe(405);
      expect(await statusWithHost(`${base}/`, 'rebound.example')).toBe(403);
      expect(await statusWithHost(`${base}/`, 'rebound.example:80')).toBe(403);
      expect(await statusWithHost(`${base}/`, 'localhost')).toBe(200);
    } finally {
      await close(server);
    }
  });

  it('inside an Express app, beside its own routes, under /utt', async () => {
    const app = express();
    app.get('/health', (_request, response) => {
      response.json({ ok: true });
    });
    app.use('/utt', toNodeListener(createDashboardHandler({ store: testStore.store, now: () => SEED_NOW, basePath: '/utt', token: TOKEN })));
    const server = createServer(app);
    const base = await listen(server);
    try {
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true });
      expect((await fetch(`${base}/utt/usage`)).status).toBe(401);
      const exchange = await fetch(`${base}/utt/usage?by=model&token=${TOKEN}`, { redirect: 'manual' });
      expect(exchange.status).toBe(303);
      expect(exchange.headers.get('location')).toBe('/utt/usage?by=model');
      const cookie = exchange.headers.getSetCookie()[0] ?? '';
      expect(cookie).toContain('HttpOnly; SameSite=Strict; Path=/utt');
      const page = await fetch(`${base}/utt/usage?by=model`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
      expect(page.status).toBe(200);
      const body = await page.text();
      expect(body).toContain('href="/utt/reconciliation"');
      const csv = await fetch(`${base}/utt/usage?by=model&format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect((await csv.text()).split('\r\n')[0]).toMatch(/^Model,Input,/);
    } finally {
      await close(server);
    }
  });

  it('inside a Hono app (the web-standard handler as is)', async () => {
    const handler = createDashboardHandler({ store: testStore.store, now: () => SEED_NOW, basePath: '/dashboard' });
    const app = new Hono();
    app.get('/', (context) => context.text('my service'));
    app.all('/dashboard/*', (context) => handler(context.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('my service');
      const api = await fetch(`${base}/dashboard/api/v1/freshness`);
      expect(api.status).toBe(200);
      expect(((await api.json()) as { sources: unknown[] }).sources).toHaveLength(6);
      expect((await fetch(`${base}/dashboard/agents`)).status).toBe(200);
    } finally {
      await close(server);
    }
  });

  it('serveDashboard binds loopback by default and refuses other addresses without a token', async () => {
    const running = await serveDashboard({ store: testStore.store, port: 0, now: () => SEED_NOW });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(running.url)).status).toBe(200);
    } finally {
      await running.close();
    }
    await expect(serveDashboard({ store: testStore.store, host: '0.0.0.0', port: 0 })).rejects.toThrow(DashboardExposureError);
    await expect(serveDashboard({ store: testStore.store, host: '192.0.2.10', port: 0 })).rejects.toThrow(/UTT_SERVE_TOKEN/);
    // With a token a wildcard bind starts, and still answers only with the token.
    const exposed = await serveDashboard({ store: testStore.store, host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      const port = (exposed.server.address() as AddressInfo).port;
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await exposed.close();
    }
  });
});
