import { DEFAULT_QUOTA_THRESHOLDS } from '@utt/core';
import { StoreArgumentError, usageDimensionValues, validateTimeZone } from '@utt/postgres';
import { parseBudgets } from '@utt/tracker';
import { tableToCsv } from './csv';
import type { DashboardOptions, ResolvedOptions } from './dashboard-options';
import { FilterError, parseFilters, usageFilter } from './filters';
import { html, type SafeHtml } from './html';
import { answerApi } from './json-api';
import { renderFilterForm, renderLayout, STYLE_SHEET } from './layout';
import type { Page, PageContext } from './page';
import { agentsPage } from './pages/agents-page';
import { callsPage } from './pages/calls-page';
import { quotasPage } from './pages/quotas-page';
import { tagsPage } from './pages/tags-page';
import { overviewPage } from './pages/overview-page';
import { qualityPage } from './pages/quality-page';
import { reconciliationPage } from './pages/reconciliation-page';
import { sourcesPage } from './pages/sources-page';
import { usagePage } from './pages/usage-page';
import { authenticate, isAllowedHost, SECURITY_HEADERS } from './security';
import { localDateOf } from './zoned-time';

/** A web-standard handler: mount it in node:http, Express, Hono, Next.js route handlers, or serve it with `serveDashboard`. */
export type DashboardHandler = (request: Request) => Promise<Response>;

export const PAGES: readonly Page[] = [overviewPage, sourcesPage, usagePage, reconciliationPage, agentsPage, callsPage, tagsPage, quotasPage, qualityPage];

const HOUR_MS = 3_600_000;
/** As `quota.staleAfter` defaults in the worker's config. */
const DEFAULT_QUOTA_STALE_AFTER_MS = 20 * 60_000;

export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath)) {
    throw new TypeError('basePath: must start with / and contain only URL path characters');
  }
  if (options.token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,}$/.test(options.token)) {
    throw new TypeError('token: must be at least 16 characters of letters, digits and ._~+/=-');
  }
  return {
    store: options.store,
    timeZone: validateTimeZone(options.timeZone ?? 'UTC', 'timeZone'),
    basePath,
    allowedHosts: options.allowedHosts ?? [],
    staleAfterMs: options.staleAfterMs ?? HOUR_MS,
    now: options.now ?? (() => new Date()),
    token: options.token,
    sources: options.sources,
    explainPrice: options.explainPrice,
    // Validated now, so a bad budget fails at start (naming budgets[i].field), not on the first page view.
    budgets: (parseBudgets(options.budgets ?? []), options.budgets ?? []),
    quota: {
      thresholds: options.quota?.thresholds ?? DEFAULT_QUOTA_THRESHOLDS,
      staleAfterMs: options.quota?.staleAfterMs ?? DEFAULT_QUOTA_STALE_AFTER_MS,
    },
  };
}

function respond(status: number, body: string, contentType: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, 'content-type': contentType, ...extra } });
}

function messagePage(status: number, title: string, message: SafeHtml | string): Response {
  const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · utt</title></head><body><main><h1>${title}</h1><p>${message}</p></main></body></html>`;
  return respond(status, body.value, 'text/html; charset=utf-8');
}

/**
 * Creates the dashboard. Every answer is read-only (GET and HEAD only), passes
 * the Host allowlist (against DNS rebinding), and with a token configured
 * needs the bearer header or the session cookie.
 */
export function createDashboardHandler(options: DashboardOptions): DashboardHandler {
  const resolved = resolveOptions(options);
  const cookiePath = resolved.basePath === '' ? '/' : resolved.basePath;
  return async (request) => {
    if (!isAllowedHost(request.headers.get('host') ?? new URL(request.url).host, resolved.allowedHosts)) {
      return messagePage(403, 'Forbidden host', 'This dashboard does not answer to that host name. Add it to allowedHosts (utt serve --allow-host) if it is yours.');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return respond(405, 'the utt dashboard is read-only: GET and HEAD only\n', 'text/plain; charset=utf-8', { allow: 'GET, HEAD' });
    }
    const url = new URL(request.url);
    if (resolved.token !== undefined) {
      const auth = authenticate(request, url, resolved.token, cookiePath);
      if (auth.kind === 'exchange') return respond(303, '', 'text/plain; charset=utf-8', { location: auth.location, 'set-cookie': auth.cookie });
      if (auth.kind !== 'ok') {
        return respond(
          401,
          html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · utt</title></head><body><main><h1>utt dashboard</h1>
<p>${auth.kind === 'wrong' ? 'That token is not valid.' : 'This dashboard needs the token it was started with (UTT_SERVE_TOKEN).'}</p>
<form method="get" action="${url.pathname}"><p><label for="token">Token</label> <input id="token" name="token" type="password" autocomplete="current-password"> <button type="submit">Open</button></p></form>
</main></body></html>`.value,
          'text/html; charset=utf-8',
          { 'www-authenticate': 'Bearer realm="utt"' },
        );
      }
    }
    if (!url.pathname.startsWith(resolved.basePath)) return messagePage(404, 'Not found', 'No such page.');
    const path = url.pathname.slice(resolved.basePath.length) || '/';
    const response = await route(path, url, resolved);
    return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
  };
}

async function route(path: string, url: URL, options: ResolvedOptions): Promise<Response> {
  if (path === '/style.css') return respond(200, STYLE_SHEET, 'text/css; charset=utf-8', { 'cache-control': 'max-age=300' });
  if (path === '/favicon.ico') return new Response(null, { status: 204, headers: SECURITY_HEADERS });
  const now = options.now();
  const today = localDateOf(now, options.timeZone);
  try {
    if (path.startsWith('/api/')) {
      const body = await answerApi(path, url.searchParams, options, now, today);
      if (body === null) return respond(404, `${JSON.stringify({ error: 'no such endpoint; GET /api/v1 lists them' })}\n`, 'application/json; charset=utf-8');
      return respond(200, `${JSON.stringify(body, null, 2)}\n`, 'application/json; charset=utf-8');
    }
    const page = PAGES.find((candidate) => candidate.path === path);
    if (page === undefined) return messagePage(404, 'Not found', 'No such page.');
    const filters = parseFilters(url.searchParams, today, page.defaultDays);
    const href = (target: string, params?: URLSearchParams) => {
      const query = params?.toString() ?? '';
      return `${options.basePath}${target}${query ? `?${query}` : ''}`;
    };
    const context: PageContext = { options, url, filters, now, today, href };
    const format = url.searchParams.get('format') ?? 'html';
    if (format !== 'html' && format !== 'csv' && format !== 'json') throw new FilterError('format', 'must be html, csv or json');
    const needsValues = page.form.some((field) => field === 'provider' || field === 'model' || field === 'source');
    const { since, until } = usageFilter(filters, options.timeZone);
    const [result, values] = await Promise.all([
      page.render(context),
      format !== 'html' ? null : page.values ? page.values(context) : needsValues ? usageDimensionValues(options.store, { since, until, timeZone: options.timeZone }) : null,
    ]);
    if (format === 'json') {
      const wanted = url.searchParams.get('table');
      const tables = wanted ? result.tables.filter((table) => table.id === wanted) : result.tables;
      if (wanted && tables.length === 0) throw new FilterError('table', `must be one of ${result.tables.map((table) => table.id).join(', ')}`);
      return respond(
        200,
        `${JSON.stringify({ page: result.title, timeZone: options.timeZone, query: Object.fromEntries(url.searchParams), tables: tables.map(({ id, caption, columns, rows }) => ({ id, caption, columns, rows })) }, null, 2)}\n`,
        'application/json; charset=utf-8',
      );
    }
    if (format === 'csv') {
      const wanted = url.searchParams.get('table') ?? result.tables[0]?.id;
      const table = result.tables.find((candidate) => candidate.id === wanted);
      if (table === undefined) throw new FilterError('table', `must be one of ${result.tables.map((candidate) => candidate.id).join(', ')}`);
      const name = `utt-${page.path === '/' ? 'overview' : page.path.slice(1)}-${table.id}.csv`;
      return respond(200, tableToCsv(table), 'text/csv; charset=utf-8', { 'content-disposition': `attachment; filename="${name}"` });
    }
    const form = renderFilterForm(context, page.form, values, page.extraFields?.(context, values));
    return respond(200, renderLayout(context, page, result.title, result.content, form).value, 'text/html; charset=utf-8');
  } catch (error) {
    if (error instanceof FilterError || StoreArgumentError.isInstance(error)) {
      return path.startsWith('/api/')
        ? respond(400, `${JSON.stringify({ error: (error as Error).message })}\n`, 'application/json; charset=utf-8')
        : messagePage(400, 'Invalid filter', (error as Error).message);
    }
    // The store is down or broken: say so plainly instead of a blank 500 from the host server.
    const message = `the utt store could not be read: ${error instanceof Error ? error.message : String(error)}`;
    return path.startsWith('/api/')
      ? respond(503, `${JSON.stringify({ error: message })}\n`, 'application/json; charset=utf-8')
      : messagePage(503, 'Store unavailable', message);
  }
}
