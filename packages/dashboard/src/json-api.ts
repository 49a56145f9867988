import { listTrackedCalls, trackedCallSummary, trackedTagBreakdown, usageBreakdown, USAGE_DIMENSIONS, type UsageDimension } from '@utt/postgres';
import { parseCallFilters, trackedCallFilter } from './call-filters';
import { PACE_RULE, quotaView, RESET_SCHEDULE_MS } from './pages/quotas-page';
import { readBudgetStatus } from '@utt/tracker';
import { BUDGET_RULE } from './pages/overview-page';
import type { ResolvedOptions } from './dashboard-options';
import { FilterError, parseFilters, usageFilter } from './filters';
import { judgeSources } from './source-health';
import { addDays, formatLocalDate, type LocalDate } from './zoned-time';
import { cacheHitRatio, displayGroup } from './pages/usage-page';

/** The stable JSON API, version 1. Every endpoint is GET and takes the pages' filter parameters. */
export const API_ENDPOINTS = [
  { path: '/api/v1/spend-series', description: 'Spend and tokens per day (reporting time zone) by provider, model or source: ?by=&from=&to=&provider=&model=&source=' },
  { path: '/api/v1/breakdown', description: `Totals per group over a range: ?by=${USAGE_DIMENSIONS.join('|')} (comma-separated for several) &from=&to=&provider=&model=&source=` },
  { path: '/api/v1/freshness', description: 'Each source: state (fresh, stale, failing, paused, never), last success, last error, watermark, why' },
  { path: '/api/v1/reconciliation', description: 'Billed vs computed per UTC day, source system and provider: ?from=&to=' },
  {
    path: '/api/v1/calls',
    description:
      'Tracked calls, newest first, one keyset page: ?from=&to=&provider=&model=&source=&tag=key=value (repeatable)&origin=response|stream|manual|unknown&untagged=1&limit=1..500&before=<nextCursor>',
  },
  { path: '/api/v1/tags', description: 'Tracked calls by tag key, and by the values of one key (with the calls lacking it): ?key= plus the /api/v1/calls filters' },
  { path: '/api/v1/budgets', description: "Each day and month budget of the config: spend in its current period (reporting time zone), limit, percent, forecast, state" },
  { path: '/api/v1/quotas', description: 'Each quota window: used, severity, pace, reset, staleness; the 7-day reset schedule; the rotation order: ?provider=&account=' },
] as const;

type Json = Record<string, unknown>;

function breakdownJson(row: Awaited<ReturnType<typeof usageBreakdown>>[number], by: readonly UsageDimension[]): Json {
  return {
    ...(row.period === null ? {} : { day: row.period }),
    ...Object.fromEntries(by.map((dimension, index) => [dimension, displayGroup(dimension, row.groups[index] ?? '').replace(/^\(none\)$/, '')])),
    inputTokens: row.inputTokens,
    cachedReadTokens: row.cachedReadTokens,
    cachedWriteTokens: row.cachedWriteTokens,
    cachedWrite1hTokens: row.cachedWrite1hTokens,
    outputTokens: row.outputTokens,
    reasoningTokens: row.reasoningTokens,
    requests: row.requests,
    cacheHitRatio: cacheHitRatio(row),
    spendUsd: row.spendUsd,
    meteredUsd: row.meteredUsd,
    flatFeeUsd: row.flatFeeUsd,
    coveredUsd: row.coveredUsd,
    unpricedTokens: row.unpricedTokens,
    unpricedRows: row.unpricedRows,
  };
}

/**
 * Answers an API path, or null when the path is not part of the API. Money
 * is exact decimal text, null when nothing was priced (never 0); token
 * counters are null when the source does not report them.
 */
export async function answerApi(path: string, params: URLSearchParams, options: ResolvedOptions, now: Date, today: LocalDate): Promise<Json | null> {
  const { store, timeZone } = options;
  const range = (filters: { from: LocalDate; to: LocalDate }) => ({ from: formatLocalDate(filters.from), to: formatLocalDate(filters.to), timeZone });
  switch (path) {
    case '/api/v1':
    case '/api/v1/':
      return { version: 1, timeZone, endpoints: API_ENDPOINTS };
    case '/api/v1/spend-series': {
      const filters = parseFilters(params, today);
      const by = params.get('by') ?? 'provider';
      if (by !== 'provider' && by !== 'model' && by !== 'source') throw new FilterError('by', 'must be provider, model or source');
      const rows = await usageBreakdown(store, { ...usageFilter(filters, timeZone), by: [by], period: 'day', timeZone });
      return { ...range(filters), by, rows: rows.map((row) => breakdownJson(row, [by])) };
    }
    case '/api/v1/breakdown': {
      const filters = parseFilters(params, today);
      const by = (params.get('by') ?? 'provider').split(',').filter((part) => part !== '');
      for (const dimension of by) {
        if (!(USAGE_DIMENSIONS as readonly string[]).includes(dimension)) throw new FilterError('by', `must list only ${USAGE_DIMENSIONS.join(', ')}`);
      }
      const dimensions = by as UsageDimension[];
      const rows = await usageBreakdown(store, { ...usageFilter(filters, timeZone), by: dimensions, timeZone });
      return { ...range(filters), by: dimensions, rows: rows.map((row) => breakdownJson(row, dimensions)) };
    }
    case '/api/v1/freshness': {
      const [statuses, watermarks] = await Promise.all([store.listStatus(), store.listWatermarks()]);
      return {
        asOf: now.toISOString(),
        sources: judgeSources(statuses, watermarks, options, now).map((source) => ({
          ...source,
          lastRunAt: source.lastRunAt?.toISOString() ?? null,
          lastSuccessAt: source.lastSuccessAt?.toISOString() ?? null,
          watermark: source.watermark?.toISOString() ?? null,
        })),
      };
    }
    case '/api/v1/reconciliation': {
      const filters = parseFilters(params, today);
      const end = addDays(filters.to, 1);
      const rows = await store.reconcile({
        since: new Date(Date.UTC(filters.from.year, filters.from.month - 1, filters.from.day)),
        until: new Date(Date.UTC(end.year, end.month - 1, end.day)),
      });
      return {
        from: formatLocalDate(filters.from),
        to: formatLocalDate(filters.to),
        timeZone: 'UTC',
        rows: rows.map((row) => ({ ...row, day: row.day.toISOString().slice(0, 10) })),
      };
    }
    case '/api/v1/calls': {
      const filters = parseFilters(params, today);
      const calls = parseCallFilters(params);
      const filter = trackedCallFilter(filters, calls, timeZone);
      const [page, summary] = await Promise.all([listTrackedCalls(store, { ...filter, limit: calls.limit, before: calls.before }), trackedCallSummary(store, filter)]);
      return {
        ...range(filters),
        tags: calls.tags,
        origin: calls.origin || null,
        untagged: calls.untagged,
        limit: calls.limit,
        summary,
        calls: page.calls.map(({ cursor: _cursor, ...call }) => ({ ...call, occurredAt: call.occurredAt.toISOString() })),
        nextCursor: page.nextCursor,
      };
    }
    case '/api/v1/tags': {
      const filters = parseFilters(params, today);
      const calls = parseCallFilters(params);
      const filter = trackedCallFilter(filters, calls, timeZone);
      const { summary, keys, key, values } = await trackedTagBreakdown(store, filter, { key: calls.key || undefined });
      return { ...range(filters), tags: calls.tags, summary, keys, key: key === '' ? null : key, values };
    }
    case '/api/v1/budgets': {
      const lines = options.budgets.length === 0 ? [] : await readBudgetStatus(store, options.budgets, { now, timeZone });
      return { asOf: now.toISOString(), timeZone, rule: BUDGET_RULE, budgets: lines.map(({ crossed: _crossed, ...line }) => line) };
    }
    case '/api/v1/quotas': {
      const filter = { provider: params.get('provider') || undefined, account: params.get('account') || undefined };
      const view = await quotaView(options, now, filter);
      return {
        asOf: now.toISOString(),
        overall: view.overall,
        thresholds: options.quota.thresholds,
        staleAfterMs: options.quota.staleAfterMs,
        paceRule: PACE_RULE,
        windows: view.rows.map((row) => ({
          source: row.reading.source,
          provider: row.reading.provider,
          account: row.reading.account,
          window: row.reading.window,
          windowSeconds: row.reading.windowSeconds,
          usedRatio: row.usedRatio,
          reportedUsedRatio: row.reading.usedRatio,
          severity: row.severity,
          status: row.reading.status,
          stale: row.stale,
          resetsAt: row.reading.resetsAt?.toISOString() ?? null,
          observedAt: row.reading.observedAt.toISOString(),
          confirmedAt: row.reading.confirmedAt.toISOString(),
          obtainedVia: row.reading.obtainedVia,
          pace: row.pace,
          historicalPace: row.historicalPace,
        })),
        resetScheduleDays: RESET_SCHEDULE_MS / 86_400_000,
        resets: view.resets.map((reading) => ({ provider: reading.provider, account: reading.account, window: reading.window, resetsAt: reading.resetsAt?.toISOString() ?? null, usedRatio: reading.usedRatio })),
        rotation: view.rotation,
      };
    }
    default:
      return null;
  }
}
