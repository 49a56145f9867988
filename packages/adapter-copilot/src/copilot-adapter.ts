import {
  AdapterHttpError,
  addBuckets,
  bucketStartsBetween,
  defineAdapter,
  type ProviderCostRecordInput,
  ResponseShapeError,
  type UsageAdapterV1Context,
  type UsageAdapterV1Window,
  type UsageRecordInput,
} from '@utt/core';
import { type BillingUsage, billingUsageSchema, latestReportLinksSchema, reportDayRecordSchema, reportLinksSchema } from './copilot-api';
import { type CopilotConfig, copilotConfigSchema, type CopilotScope, scopeOf } from './copilot-config';
import { downloadSignedLink, getGitHubJson } from './copilot-http';
import { type BillingReportKind, convertBillingDay } from './convert-copilot-billing';
import { convertReportDay } from './convert-copilot-metrics';
import { parseNdjson } from './parse-ndjson';
import { stabilizeActivityLabels } from './stabilize-activity-labels';

type Context = UsageAdapterV1Context<CopilotConfig>;

/**
 * Billing answers fetched by collect() are reused by collectProviderCosts()
 * in the same cycle (the worker passes the same context to both), so each
 * day's billing is asked for once per cycle.
 */
const billingCache = new WeakMap<object, Map<string, Promise<BillingUsage | null>>>();

/**
 * GitHub Copilot: the daily usage-metrics reports (API version 2026-03-10;
 * signed NDJSON links fetched in the same run) and the billing usage of
 * premium requests and AI credits (quantities and dollars per model and day).
 * No Copilot endpoint reports tokens.
 */
export const copilotAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'copilot',
  sourceSystem: 'copilot',
  configSchema: copilotConfigSchema,
  capabilities: {
    granularities: ['day'],
    cacheTokens: 'none',
    costSource: 'provider',
    measurementBasis: 'provider_aggregate',
    // Usage-metrics reports are kept about a year; billing usage 24 months.
    maxBackfillDays: 365,
    windowed: true,
    // The provider revises recent buckets: re-collect them every cycle.
    defaultSettleHours: 72,
  },
  async check(context) {
    const { config } = context;
    const scope = scopeOf(config);
    try {
      if (config.reports.usageMetrics) {
        await getGitHubJson(context.http, config, scope, {
          path: `${scopePath(scope)}/copilot/metrics/reports/${scope.kind}-28-day/latest`,
          schema: latestReportLinksSchema,
          kind: 'usage_metrics',
        });
        return { ok: true, detail: `usage-metrics reports readable for ${scope.kind} ${scope.slug}` };
      }
      const now = context.now();
      await getGitHubJson(context.http, config, scope, {
        path: billingPath(scope, config.reports.premiumRequests ? 'premium_requests' : 'ai_credits'),
        query: { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 },
        schema: billingUsageSchema,
        kind: 'billing',
      });
      return { ok: true, detail: `billing usage readable for ${scope.kind} ${scope.slug}` };
    } catch (error) {
      if (AdapterHttpError.isInstance(error) && error.failure === 'status' && [401, 403, 404].includes(error.statusCode ?? 0)) {
        return { ok: false, reason: error.message };
      }
      throw error;
    }
  },
  async collect(window, context) {
    const { config } = context;
    const scope = scopeOf(config);
    const now = context.now();
    const records: UsageRecordInput[] = [];
    for (const day of daysOf(window)) {
      const dayText = day.toISOString().slice(0, 10);
      // A day's report exists only once the day is over; asking earlier is a wasted call.
      if (config.reports.usageMetrics && addBuckets(day, 'day', 1) <= now) {
        for (const record of await collectMetricsDay(context, scope, dayText)) records.push(record);
      }
      for (const kind of billingKinds(config)) {
        if (day > now) continue;
        const usage = await fetchBillingDay(context, scope, kind, day);
        if (usage) for (const record of convertBillingDay(usage.usageItems, { day: dayText, kind, account: scope.slug }).records) records.push(record);
      }
    }
    return stabilizeActivityLabels(records, context.state, context.logger, now);
  },
  async collectProviderCosts(window, context) {
    const { config } = context;
    const scope = scopeOf(config);
    const now = context.now();
    const costs: ProviderCostRecordInput[] = [];
    for (const day of daysOf(window)) {
      if (day > now) continue;
      for (const kind of billingKinds(config)) {
        const usage = await fetchBillingDay(context, scope, kind, day);
        if (usage) for (const cost of convertBillingDay(usage.usageItems, { day: day.toISOString().slice(0, 10), kind, account: scope.slug }).costs) costs.push(cost);
      }
    }
    return costs;
  },
});

async function collectMetricsDay(context: Context, scope: CopilotScope, day: string): Promise<UsageRecordInput[]> {
  const { config } = context;
  const links = await getGitHubJson(context.http, config, scope, {
    path: `${scopePath(scope)}/copilot/metrics/reports/${scope.kind}-1-day`,
    query: { day },
    schema: reportLinksSchema,
    kind: 'usage_metrics',
  });
  if (links === null) {
    context.logger.debug('no Copilot usage-metrics report for this day (204)', { day });
    return [];
  }
  if (links.report_day !== day) {
    throw new ResponseShapeError({ endpoint: `Copilot usage-metrics report for ${day}`, issues: [`report_day: expected ${day}, got ${links.report_day}`] });
  }
  const allowHttp = config.baseUrl.startsWith('http:');
  const records: UsageRecordInput[] = [];
  const seenDays = new Set<string>();
  for (const [index, link] of links.download_links.entries()) {
    // Named by day and position: the signed URL itself is a credential and never logged.
    const label = `Copilot usage-metrics report for ${day}, file ${index + 1} of ${links.download_links.length}`;
    const text = await downloadSignedLink(context.http, link, label, allowHttp);
    const dayRecords = parseNdjson(text, reportDayRecordSchema, label);
    for (const record of dayRecords) {
      if (record.day !== day) {
        throw new ResponseShapeError({ endpoint: label, issues: [`day: expected ${day} (the day asked for), got ${record.day}`] });
      }
      if (seenDays.has(record.day)) {
        throw new ResponseShapeError({ endpoint: label, issues: [`day: ${record.day} appears twice in the report; refusing to guess which figures are right`] });
      }
      seenDays.add(record.day);
      for (const converted of convertReportDay(record, { account: scope.slug, estimateTokens: config.estimateTokens })) records.push(converted);
    }
  }
  context.logger.debug('read Copilot usage-metrics report', { day, files: links.download_links.length, records: records.length });
  return records;
}

function fetchBillingDay(context: Context, scope: CopilotScope, kind: BillingReportKind, day: Date): Promise<BillingUsage | null> {
  let cache = billingCache.get(context);
  if (!cache) {
    cache = new Map();
    billingCache.set(context, cache);
  }
  const key = `${kind}:${day.toISOString()}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = requestBillingDay(context, scope, kind, day);
    // A failed call is not remembered: collectProviderCosts() asks again.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

async function requestBillingDay(context: Context, scope: CopilotScope, kind: BillingReportKind, day: Date): Promise<BillingUsage | null> {
  const year = day.getUTCFullYear();
  const month = day.getUTCMonth() + 1;
  const dayOfMonth = day.getUTCDate();
  const usage = await getGitHubJson(context.http, context.config, scope, {
    path: billingPath(scope, kind),
    query: { year, month, day: dayOfMonth },
    schema: billingUsageSchema,
    kind: 'billing',
  });
  if (usage === null) return null;
  // Without the day echoed back the items could be the month's totals: refuse rather than write them as one day.
  const period = usage.timePeriod;
  if (period.year !== year || period.month !== month || period.day !== dayOfMonth) {
    throw new ResponseShapeError({
      endpoint: `${scope.kind} billing usage (${kind}) for ${day.toISOString().slice(0, 10)}`,
      issues: [`timePeriod: expected {year: ${year}, month: ${month}, day: ${dayOfMonth}}, got ${JSON.stringify(period)}`],
    });
  }
  return usage;
}

function billingKinds(config: CopilotConfig): BillingReportKind[] {
  const kinds: BillingReportKind[] = [];
  if (config.reports.premiumRequests) kinds.push('premium_requests');
  if (config.reports.aiCredits) kinds.push('ai_credits');
  return kinds;
}

function scopePath(scope: CopilotScope): string {
  return scope.kind === 'organization' ? `/orgs/${scope.slug}` : `/enterprises/${scope.slug}`;
}

function billingPath(scope: CopilotScope, kind: BillingReportKind): string {
  const account = scope.kind === 'organization' ? `/organizations/${scope.slug}` : `/enterprises/${scope.slug}`;
  return `${account}/settings/billing/${kind === 'premium_requests' ? 'premium_request' : 'ai_credit'}/usage`;
}

function daysOf(window: UsageAdapterV1Window): Date[] {
  if (window.granularity !== 'day') {
    throw new RangeError(`the copilot adapter writes day buckets only (capabilities.granularities), got a ${window.granularity} window`);
  }
  return bucketStartsBetween(window.start, window.end, 'day');
}

