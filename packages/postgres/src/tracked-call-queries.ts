import { storeTables } from './schema-name';
import { StoreArgumentError } from './store-argument-error';
import { trimZeros } from './usage-breakdown';
import type { UsageStore } from './usage-store';

/** Where a call's token counts came from; 'unknown' is a call whose usage never arrived (a cut stream). */
export const USAGE_ORIGINS = ['response', 'stream', 'manual', 'unknown'] as const;
export type UsageOrigin = (typeof USAGE_ORIGINS)[number];

/** Which tracked calls a read covers. Every field narrows; all are optional. */
export type TrackedCallFilter = {
  /** occurred_at in [since, until). */
  readonly since?: Date;
  readonly until?: Date;
  readonly providers?: readonly string[];
  readonly models?: readonly string[];
  /** The application (tracked_call.source_system). */
  readonly sourceSystems?: readonly string[];
  /** Every key must be present with that value (`tags @> …`). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly usageOrigins?: readonly UsageOrigin[];
  /** Only calls with no tag at all. */
  readonly untaggedOnly?: boolean;
};

/** One call as the ledger holds it. Token counters are null when the provider did not report them. */
export type TrackedCallRow = {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly sourceSystem: string;
  readonly sourceInstance: string;
  readonly provider: string;
  readonly model: string;
  readonly operation: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly inputTokens: number | null;
  readonly cachedReadTokens: number | null;
  readonly cachedWriteTokens: number | null;
  readonly outputTokens: number | null;
  readonly reasoningTokens: number | null;
  readonly serviceTier: string;
  readonly streaming: boolean;
  readonly latencyMs: number | null;
  readonly usageOrigin: UsageOrigin;
  /** Exact decimal text; null when the call is unpriced (never $0). */
  readonly costUsd: string | null;
  readonly unpricedReason: string | null;
  /** The keyset position of this call: pass it as `before` to get the calls after it. */
  readonly cursor: string;
};

export const TRACKED_CALL_PAGE_LIMIT = { default: 50, max: 500 } as const;

export type TrackedCallPageQuery = TrackedCallFilter & {
  /** Calls per page, 1 to 500 (default 50). */
  readonly limit?: number;
  /** A `cursor` from a previous page: only calls older than that one. */
  readonly before?: string;
};

export type TrackedCallPage = {
  /** Newest first (occurred_at, then event id). */
  readonly calls: TrackedCallRow[];
  /** The cursor of the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
};

/** Totals of a set of calls. */
export type TrackedCallTotals = {
  readonly calls: number;
  /** input + cached read + cached write + output; reasoning is inside output. */
  readonly tokens: number;
  /** Sum over priced calls; null when none is priced. */
  readonly costUsd: string | null;
  /** Calls with tokens and no price: not in costUsd, never counted as $0. */
  readonly unpricedCalls: number;
};

export type TrackedCallSummary = TrackedCallTotals & {
  /** Calls with no tag at all. */
  readonly untaggedCalls: number;
  readonly untaggedCostUsd: string | null;
  /** usage_origin 'unknown': streams cut before their usage arrived. */
  readonly incompleteCalls: number;
  readonly missingLatencyCalls: number;
  readonly streamingCalls: number;
};

export type TrackedTagKey = TrackedCallTotals & {
  readonly key: string;
  readonly values: number;
};

export type TrackedTagValue = TrackedCallTotals & {
  /** null: the calls without this tag key. */
  readonly value: string | null;
};

export type TrackedCallDimensionValues = {
  readonly sourceSystems: string[];
  readonly providers: string[];
  readonly models: string[];
  readonly tagKeys: string[];
};

const CALL_TOKENS = 'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
const HAS_TOKENS = 'COALESCE(input_tokens, output_tokens, cached_read_tokens, cached_write_tokens) IS NOT NULL';
const TOTALS = `COUNT(*) AS calls, COALESCE(SUM(${CALL_TOKENS}), 0)::bigint AS tokens, SUM(cost_usd)::text AS cost_usd,
  COUNT(*) FILTER (WHERE cost_usd IS NULL AND ${HAS_TOKENS}) AS unpriced_calls`;
const CURSOR_PATTERN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const HOUR_MS = 3_600_000;

type TotalsRow = { calls: number | string; tokens: number | string; cost_usd: string | null; unpriced_calls: number | string };

function totals(row: TotalsRow | undefined): TrackedCallTotals {
  return {
    calls: Number(row?.calls ?? 0),
    tokens: Number(row?.tokens ?? 0),
    costUsd: trimZeros(row?.cost_usd ?? null),
    unpricedCalls: Number(row?.unpriced_calls ?? 0),
  };
}

function checkList(values: readonly string[] | undefined, argument: string): void {
  if (values === undefined) return;
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
    throw new StoreArgumentError({ argument, message: 'must be a list of strings' });
  }
}

/**
 * The WHERE clause of a filter. The time range also bounds bucket_start (the
 * UTC hour of occurred_at), so the existing bucket_start index narrows the
 * scan before occurred_at is compared.
 */
function filterSql(filter: TrackedCallFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replaceAll('?', `$${params.length}`));
  };
  for (const field of ['since', 'until'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new StoreArgumentError({ argument: `filter.${field}`, message: 'must be a valid Date' });
    if (field === 'since') {
      add('bucket_start >= ?', new Date(Math.floor(value.getTime() / HOUR_MS) * HOUR_MS));
      add('occurred_at >= ?', value);
    } else {
      add('bucket_start < ?', value);
      add('occurred_at < ?', value);
    }
  }
  checkList(filter.providers, 'filter.providers');
  checkList(filter.models, 'filter.models');
  checkList(filter.sourceSystems, 'filter.sourceSystems');
  if (filter.providers?.length) add('provider = ANY(?::text[])', filter.providers);
  if (filter.models?.length) add('model = ANY(?::text[])', filter.models);
  if (filter.sourceSystems?.length) add('source_system = ANY(?::text[])', filter.sourceSystems);
  if (filter.tags !== undefined) {
    for (const [key, value] of Object.entries(filter.tags)) {
      if (typeof value !== 'string') throw new StoreArgumentError({ argument: `filter.tags.${key}`, message: 'must be a string' });
    }
    if (Object.keys(filter.tags).length > 0) add('tags @> ?::jsonb', JSON.stringify(filter.tags));
  }
  if (filter.usageOrigins?.length) {
    for (const origin of filter.usageOrigins) {
      if (!(USAGE_ORIGINS as readonly string[]).includes(origin)) {
        throw new StoreArgumentError({ argument: 'filter.usageOrigins', message: `must list only ${USAGE_ORIGINS.join(', ')}` });
      }
    }
    add('usage_origin = ANY(?::text[])', filter.usageOrigins);
  }
  if (filter.untaggedOnly) conditions.push(`tags = '{}'::jsonb`);
  return conditions;
}

function whereSql(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

type CallRecord = {
  event_id: string;
  occurred_at: Date;
  cursor_at: string;
  source_system: string;
  source_instance: string;
  provider: string;
  model: string;
  operation: string;
  tags: Record<string, string>;
  input_tokens: number | string | null;
  cached_read_tokens: number | string | null;
  cached_write_tokens: number | string | null;
  output_tokens: number | string | null;
  reasoning_tokens: number | string | null;
  service_tier: string;
  streaming: boolean;
  latency_ms: number | null;
  usage_origin: UsageOrigin;
  cost_usd: string | null;
  unpriced_reason: string | null;
};

const count = (value: number | string | null) => (value === null ? null : Number(value));

/**
 * One page of calls, newest first, by keyset: `before` is the cursor of the
 * last call of the previous page, so a page costs the same however deep it
 * is and calls arriving meanwhile never shift the pages already seen.
 *
 * Ordered by bucket_start (the UTC hour of occurred_at) first: the same order,
 * but one PostgreSQL can read backwards from the bucket_start index and sort
 * hour by hour (incremental sort), stopping after one page instead of sorting
 * every call of the range.
 */
export async function listTrackedCalls(store: UsageStore, query: TrackedCallPageQuery = {}): Promise<TrackedCallPage> {
  const limit = query.limit ?? TRACKED_CALL_PAGE_LIMIT.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > TRACKED_CALL_PAGE_LIMIT.max) {
    throw new StoreArgumentError({ argument: 'limit', message: `must be a whole number from 1 to ${TRACKED_CALL_PAGE_LIMIT.max}` });
  }
  const params: unknown[] = [];
  const conditions = filterSql(query, params);
  if (query.before !== undefined) {
    const match = CURSOR_PATTERN.exec(query.before);
    if (match === null) throw new StoreArgumentError({ argument: 'before', message: 'is not a cursor this store returned' });
    params.push(match[1], match[2]);
    conditions.push(`(occurred_at, event_id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    params.push(match[1]);
    conditions.push(`bucket_start <= $${params.length}::timestamptz`);
  }
  params.push(limit + 1);
  const rows = await store.client.query<CallRecord>(
    `SELECT event_id::text AS event_id, occurred_at,
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
            source_system, source_instance, provider, model, operation, tags,
            input_tokens, cached_read_tokens, cached_write_tokens, output_tokens, reasoning_tokens,
            service_tier, streaming, latency_ms, usage_origin, cost_usd::text AS cost_usd, unpriced_reason
     FROM ${storeTables(store.schema).trackedCall}
     ${whereSql(conditions)}
     ORDER BY bucket_start DESC, occurred_at DESC, event_id DESC
     LIMIT $${params.length}`,
    params,
  );
  const calls = rows.slice(0, limit).map(
    (row): TrackedCallRow => ({
      eventId: row.event_id,
      occurredAt: row.occurred_at,
      sourceSystem: row.source_system,
      sourceInstance: row.source_instance,
      provider: row.provider,
      model: row.model,
      operation: row.operation,
      tags: row.tags,
      inputTokens: count(row.input_tokens),
      cachedReadTokens: count(row.cached_read_tokens),
      cachedWriteTokens: count(row.cached_write_tokens),
      outputTokens: count(row.output_tokens),
      reasoningTokens: count(row.reasoning_tokens),
      serviceTier: row.service_tier,
      streaming: row.streaming,
      latencyMs: row.latency_ms,
      usageOrigin: row.usage_origin,
      costUsd: trimZeros(row.cost_usd),
      unpricedReason: row.unpriced_reason,
      cursor: `${row.cursor_at}_${row.event_id}`,
    }),
  );
  return { calls, nextCursor: rows.length > limit ? (calls[calls.length - 1]?.cursor ?? null) : null };
}

/** Totals of the filtered calls and what the data-quality page asks of them. */
export async function trackedCallSummary(store: UsageStore, filter: TrackedCallFilter = {}): Promise<TrackedCallSummary> {
  const params: unknown[] = [];
  const conditions = filterSql(filter, params);
  const [row] = await store.client.query<SummaryRow>(
    `SELECT ${TOTALS},
            COUNT(*) FILTER (WHERE tags = '{}'::jsonb) AS untagged_calls,
            SUM(cost_usd) FILTER (WHERE tags = '{}'::jsonb)::text AS untagged_cost_usd,
            COUNT(*) FILTER (WHERE usage_origin = 'unknown') AS incomplete_calls,
            COUNT(*) FILTER (WHERE latency_ms IS NULL) AS missing_latency_calls,
            COUNT(*) FILTER (WHERE streaming) AS streaming_calls
     FROM ${storeTables(store.schema).trackedCall} ${whereSql(conditions)}`,
    params,
  );
  return summaryOf(row);
}

type SummaryRow = TotalsRow & {
  untagged_calls: number | string | null;
  untagged_cost_usd: string | null;
  incomplete_calls: number | string | null;
  missing_latency_calls: number | string | null;
  streaming_calls: number | string | null;
};

function summaryOf(row: SummaryRow | undefined): TrackedCallSummary {
  return {
    ...totals(row),
    untaggedCalls: Number(row?.untagged_calls ?? 0),
    untaggedCostUsd: trimZeros(row?.untagged_cost_usd ?? null),
    incompleteCalls: Number(row?.incomplete_calls ?? 0),
    missingLatencyCalls: Number(row?.missing_latency_calls ?? 0),
    streamingCalls: Number(row?.streaming_calls ?? 0),
  };
}

/** The filtered calls' totals, their tag keys, and the split by one key's values, from one read of the calls. */
export type TrackedTagBreakdown = {
  readonly summary: TrackedCallSummary;
  /** Every tag key of the calls with the totals of the calls that carry it, costliest first. */
  readonly keys: TrackedTagKey[];
  /** The key split in `values`: the one asked for, else the costliest; '' when no call has a tag. */
  readonly key: string;
  /** The calls by the values of `key`, costliest first, then one row (value null) for the calls without it. */
  readonly values: TrackedTagValue[];
};

type BreakdownRow = SummaryRow & {
  part: 'summary' | 'key' | 'value';
  key: string | null;
  value: string | null;
  values: number | string | null;
};

/**
 * The Tags page in one statement: the calls of the range are read once and
 * summed per distinct tag set, and the totals, the keys and the values of one
 * key are all sums over those few sets rather than three more passes over the
 * calls. Sets are taken apart only after the sum: far fewer rows to expand, and
 * a row estimate low enough that PostgreSQL does not JIT-compile the query.
 */
export async function trackedTagBreakdown(store: UsageStore, filter: TrackedCallFilter = {}, options: { key?: string } = {}): Promise<TrackedTagBreakdown> {
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new StoreArgumentError({ argument: 'options.key', message: 'must be a non-empty tag key' });
  }
  const params: unknown[] = [options.key ?? null];
  const conditions = filterSql(filter, params);
  const rows = await store.client.query<BreakdownRow>(
    `WITH sets AS MATERIALIZED (
       SELECT tags, COUNT(*) AS calls, COALESCE(SUM(${CALL_TOKENS}), 0) AS tokens, SUM(cost_usd) AS cost_usd,
              COUNT(*) FILTER (WHERE cost_usd IS NULL AND ${HAS_TOKENS}) AS unpriced_calls,
              COUNT(*) FILTER (WHERE usage_origin = 'unknown') AS incomplete_calls,
              COUNT(*) FILTER (WHERE latency_ms IS NULL) AS missing_latency_calls,
              COUNT(*) FILTER (WHERE streaming) AS streaming_calls
       FROM ${storeTables(store.schema).trackedCall}
       ${whereSql(conditions)}
       GROUP BY tags
     ),
     keys AS (
       SELECT t.key, COUNT(DISTINCT t.value) AS values, SUM(s.calls) AS calls, SUM(s.tokens) AS tokens,
              SUM(s.cost_usd) AS cost_usd, SUM(s.unpriced_calls) AS unpriced_calls
       FROM sets s CROSS JOIN LATERAL jsonb_each_text(s.tags) AS t(key, value)
       GROUP BY t.key
     ),
     chosen AS (
       SELECT COALESCE($1::text, (SELECT key FROM keys ORDER BY cost_usd DESC NULLS LAST, calls DESC, key LIMIT 1)) AS key
     )
     SELECT 'summary' AS part, NULL AS key, NULL AS value, NULL::bigint AS values,
            COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(tokens), 0)::bigint AS tokens, SUM(cost_usd)::text AS cost_usd,
            COALESCE(SUM(unpriced_calls), 0) AS unpriced_calls,
            COALESCE(SUM(calls) FILTER (WHERE tags = '{}'::jsonb), 0) AS untagged_calls,
            (SUM(cost_usd) FILTER (WHERE tags = '{}'::jsonb))::text AS untagged_cost_usd,
            COALESCE(SUM(incomplete_calls), 0) AS incomplete_calls,
            COALESCE(SUM(missing_latency_calls), 0) AS missing_latency_calls,
            COALESCE(SUM(streaming_calls), 0) AS streaming_calls,
            0 AS part_order, 0 AS null_last, NULL::numeric AS order_cost, 0::numeric AS order_calls, NULL AS order_text
     FROM sets
     UNION ALL
     SELECT 'key', key, NULL, values, calls, tokens::bigint, cost_usd::text, unpriced_calls,
            NULL, NULL, NULL, NULL, NULL, 1, 0, cost_usd, calls, key
     FROM keys
     UNION ALL
     SELECT 'value', chosen.key, s.tags ->> chosen.key, NULL, SUM(s.calls), SUM(s.tokens)::bigint, SUM(s.cost_usd)::text, SUM(s.unpriced_calls),
            NULL, NULL, NULL, NULL, NULL, 2, ((s.tags ->> chosen.key) IS NULL)::int, SUM(s.cost_usd), SUM(s.calls), s.tags ->> chosen.key
     FROM sets s CROSS JOIN chosen
     WHERE chosen.key IS NOT NULL
     GROUP BY chosen.key, s.tags ->> chosen.key
     ORDER BY part_order, null_last, order_cost DESC NULLS LAST, order_calls DESC, order_text`,
    params,
  );
  const summary = summaryOf(rows.find((row) => row.part === 'summary'));
  const keys = rows.filter((row) => row.part === 'key').map((row) => ({ key: row.key as string, values: Number(row.values), ...totals(row) }));
  const values = rows.filter((row) => row.part === 'value').map((row) => ({ value: row.value, ...totals(row) }));
  return { summary, keys, key: options.key ?? keys[0]?.key ?? '', values };
}

/** Every tag key of the filtered calls with the totals of the calls that carry it, costliest first. */
export async function trackedTagKeys(store: UsageStore, filter: TrackedCallFilter = {}): Promise<TrackedTagKey[]> {
  return (await trackedTagBreakdown(store, filter)).keys;
}

/**
 * The filtered calls split by the values of one tag key, costliest first,
 * and one row (value null) for the calls without that key, so the shares add
 * up to all calls.
 */
export async function trackedTagValues(store: UsageStore, key: string, filter: TrackedCallFilter = {}): Promise<TrackedTagValue[]> {
  if (typeof key !== 'string' || key === '') throw new StoreArgumentError({ argument: 'key', message: 'must be a non-empty tag key' });
  return (await trackedTagBreakdown(store, filter, { key })).values;
}

/**
 * The applications, providers, models and (unless `tagKeys: false`) tag keys
 * that have calls in a range, sorted: the filter choices. Listing tag keys
 * reads every call's tags, so a page that does not offer them skips it.
 */
export async function trackedCallDimensionValues(
  store: UsageStore,
  range: Pick<TrackedCallFilter, 'since' | 'until'> = {},
  options: { tagKeys?: boolean } = {},
): Promise<TrackedCallDimensionValues> {
  const params: unknown[] = [];
  const conditions = filterSql({ since: range.since, until: range.until }, params);
  const table = storeTables(store.schema).trackedCall;
  const [dimensions, keys] = await Promise.all([
    store.client.query<{ source_system: string; provider: string; model: string }>(
      `SELECT DISTINCT source_system, provider, model FROM ${table} ${whereSql(conditions)}`,
      params,
    ),
    options.tagKeys === false
      ? Promise.resolve([])
      : store.client.query<{ key: string }>(
          `SELECT DISTINCT t.key FROM ${table} c CROSS JOIN LATERAL jsonb_object_keys(c.tags) AS t(key) ${whereSql(conditions)} ORDER BY 1`,
          params,
        ),
  ]);
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    sourceSystems: sorted(dimensions.map((row) => row.source_system)),
    providers: sorted(dimensions.map((row) => row.provider)),
    models: sorted(dimensions.map((row) => row.model).filter((model) => model !== '')),
    tagKeys: keys.map((row) => row.key),
  };
}
