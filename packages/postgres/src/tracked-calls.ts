import { createHash } from 'node:crypto';
import { parseQuotaReading, type QuotaReading, quotaReadingsFromHeaders, type SpendQueryV1, type SpendScopeV1, type TrackedCallV1, type TrackerSinkV1 } from '@utt/core';
import type { QuotaReadingsWrite } from './quota-readings';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

/** One token_usage cell of the tracker: its key without granularity ('hour') and the '' dimensions. */
export type TrackedCell = {
  readonly source_system: string;
  readonly source_instance: string;
  /** ISO instant of the UTC hour. */
  readonly bucket_start: string;
  readonly provider: string;
  readonly model: string;
  readonly labels: Readonly<Record<string, string>>;
};

const HOUR_MS = 3_600_000;

const CALL_COLUMNS = `event_id uuid, source_system text, source_instance text, occurred_at timestamptz, provider text, model text,
  operation text, labels jsonb, tags jsonb, thread_id text, agent_id text, input_tokens bigint, output_tokens bigint,
  cached_read_tokens bigint, cached_write_tokens bigint, cached_write_1h_tokens bigint, reasoning_tokens bigint,
  web_searches bigint, service_tier text, latency_ms double precision, streaming boolean, response_id text, request_id text,
  usage_origin text, cost_usd numeric, price_ref text, unpriced_reason text, rate_limit_headers jsonb`;

const CELL_KEY = 'source_system, source_instance, bucket_start, provider, model, labels';

/** A call or carry row that has any token count (one without is not "unpriced": it has nothing to price). */
const hasTokens = (prefix: string) =>
  `COALESCE(${prefix}input_tokens, ${prefix}output_tokens, ${prefix}cached_read_tokens, ${prefix}cached_write_tokens) IS NOT NULL`;

/**
 * A call whose usage never arrived (the tracker's usage_unknown: origin
 * 'unknown', no output count; a stream cut after Anthropic's message_start or
 * Gemini's first chunk keeps its input counts): what it cost is not known, so
 * its cell's cost is not the whole truth (migration 0016).
 */
const usageUnknown = (prefix: string) => `(${prefix}cost_usd IS NULL AND ${prefix}usage_origin = 'unknown' AND ${prefix}output_tokens IS NULL)`;

/** A call with tokens and no price (a call without usage is counted apart, see usageUnknown). */
const unpricedWithTokens = (prefix: string) => `(${prefix}cost_usd IS NULL AND ${hasTokens(prefix)} AND NOT ${usageUnknown(prefix)})`;

/**
 * The unpriced_reason of a cell from its counts (SQL over sums' columns):
 * 'calls_unpriced:N/M:reason', N the calls whose cost the cell lacks, M its
 * requests. reason is the first reason of the calls with tokens and no price
 * ('no_price' when they gave none); 'usage_unknown' when every one of the N is
 * a call whose usage never arrived; 'usage_unknown:U;reason' when U of them
 * are and the others lack a price. So the text after 'N/M:' starts with
 * 'usage_unknown' exactly when the cell's tokens are incomplete too.
 */
const CELL_UNPRICED_REASON = `CASE WHEN unpriced + usage_unknown > 0 THEN
              'calls_unpriced:' || (unpriced + usage_unknown) || '/' || requests || ':' ||
              CASE WHEN usage_unknown = 0 THEN COALESCE(unpriced_reason, 'no_price')
                   WHEN unpriced = 0 THEN 'usage_unknown'
                   ELSE 'usage_unknown:' || usage_unknown || ';' || COALESCE(unpriced_reason, 'no_price') END END`;

/** What a tracker cell's unpriced_reason says (see CELL_UNPRICED_REASON). */
export type TrackedCellReason = {
  /** Calls of the cell whose cost it lacks: N of 'calls_unpriced:N/M:…'. */
  readonly calls: number;
  /** The cell's requests: M. */
  readonly requests: number;
  /** Of the N, the calls whose usage never arrived: their tokens are missing from the cell too, no price can fill them. */
  readonly usageUnknownCalls: number;
  /** Why the other N - usageUnknownCalls calls have no price (the first reason of them), or null when there are none. */
  readonly reason: string | null;
};

/**
 * Reads a tracker cell's unpriced_reason ('calls_unpriced:N/M:reason');
 * undefined for any other text (a collector's reason, NULL).
 */
export function parseTrackedCellReason(text: string | null | undefined): TrackedCellReason | undefined {
  const match = text ? /^calls_unpriced:(\d+)\/(\d+):(.*)$/s.exec(text) : null;
  if (!match) return undefined;
  const calls = Number(match[1]);
  const requests = Number(match[2]);
  const tail = match[3] as string;
  if (tail === 'usage_unknown') return { calls, requests, usageUnknownCalls: calls, reason: null };
  const mixed = /^usage_unknown:(\d+);(.*)$/s.exec(tail);
  if (mixed) return { calls, requests, usageUnknownCalls: Number(mixed[1]), reason: mixed[2] as string };
  return { calls, requests, usageUnknownCalls: 0, reason: tail };
}

/**
 * Whether an unpriced_reason says the row lacks a cost only because calls of
 * it never reported usage ('calls_unpriced:N/M:usage_unknown'): no price can
 * fill it, so neither `utt prices check` nor the dashboard should ask for one.
 */
export function lacksOnlyUsage(reason: string | null | undefined): boolean {
  const parsed = parseTrackedCellReason(reason);
  return parsed !== undefined && parsed.usageUnknownCalls > 0 && parsed.reason === null;
}

function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) out[key] = labels[key] as string;
  return out;
}

// A NUL, or half of a surrogate pair: PostgreSQL's text and jsonb refuse both ("unsupported Unicode escape sequence").
const UNSTORABLE_CHARACTER = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text PostgreSQL stores: a NUL or a lone surrogate becomes U+FFFD. One such
 * character in a tag (a value cut from user input mid-emoji) would fail the
 * whole batch, and the tracker would retry it, and hold every later call
 * behind it, until its queue dropped them.
 */
function storableText(text: string): string;
function storableText(text: string | null): string | null;
function storableText(text: string | null): string | null {
  if (typeof text !== 'string') return text;
  UNSTORABLE_CHARACTER.lastIndex = 0;
  return UNSTORABLE_CHARACTER.test(text) ? text.replace(UNSTORABLE_CHARACTER, '\ufffd') : text;
}

function storableRecord(record: Readonly<Record<string, string>> | null | undefined): Record<string, string> | null {
  if (record === null || record === undefined) return null;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) out[storableText(key)] = typeof value === 'string' ? storableText(value) : value;
  return out;
}

/** Longest label value a cell keeps whole, in UTF-8 bytes. */
const LABEL_VALUE_MAX_BYTES = 200;

/**
 * A label value as a token_usage cell (and its calls' labels column) holds
 * it. The labels are part of token_usage's unique key, a B-tree whose entries
 * must fit in 2,704 bytes: a longer value (a URL, a prompt used as a tag) is
 * cut to its first 64 characters, '…' and a digest of the whole, the same in
 * every process, so distinct values stay distinct cells. The call's tags keep
 * it whole. Budgets and readers scoped by the whole value map it the same way.
 */
export function cellLabelValue(value: string): string {
  const text = storableText(value);
  if (text.length * 3 <= LABEL_VALUE_MAX_BYTES || Buffer.byteLength(text) <= LABEL_VALUE_MAX_BYTES) return text;
  return `${Array.from(text).slice(0, 64).join('')}…${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Labels as a cell holds them: keys sorted, every key and value storable, long values shortened (cellLabelValue). */
export function cellLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(labels).map(([key, value]): [string, string] => [storableText(key), typeof value === 'string' ? cellLabelValue(value) : value]);
  return sortedLabels(Object.fromEntries(entries));
}

function cellOf(row: { source_system: string; source_instance: string; occurred_at: string; provider: string; model: string; labels: Record<string, string> }): TrackedCell {
  return {
    source_system: row.source_system,
    source_instance: row.source_instance,
    bucket_start: new Date(Math.floor(Date.parse(row.occurred_at) / HOUR_MS) * HOUR_MS).toISOString(),
    provider: row.provider,
    model: row.model,
    labels: row.labels,
  };
}

const cellKey = (cell: TrackedCell) => JSON.stringify([cell.source_system, cell.source_instance, cell.bucket_start, cell.provider, cell.model, cell.labels]);

function checkCall(call: TrackedCallV1, index: number): void {
  const where = `calls[${index}]`;
  if (call.specificationVersion !== 'v1') throw new StoreArgumentError({ argument: `${where}.specificationVersion`, message: "must be 'v1'" });
  if (typeof call.sourceSystem !== 'string' || call.sourceSystem === '') throw new StoreArgumentError({ argument: `${where}.sourceSystem`, message: 'required' });
  if (typeof call.provider !== 'string' || call.provider === '') throw new StoreArgumentError({ argument: `${where}.provider`, message: 'required' });
  if (!(call.occurredAt instanceof Date) || Number.isNaN(call.occurredAt.getTime())) throw new StoreArgumentError({ argument: `${where}.occurredAt`, message: 'must be a valid Date' });
}

/** What writeTrackedCalls stored, and what it skipped because the ledger holds it already. */
export type TrackedCallsWrite = {
  readonly inserted: number;
  /** Calls whose event id is stored: a batch written again after a write whose answer was lost. */
  readonly alreadyStored: number;
  /**
   * Calls stored under another event id: the same distinctive response id,
   * model and counts (migration 0013), i.e. one response recorded twice.
   */
  readonly sameResponse: number;
  /**
   * Calls of hours before their application's prune horizon, not written:
   * their rows may have been pruned, so a retried copy would count twice.
   */
  readonly refused: number;
};

/**
 * Writes a batch of tracked calls and recomputes the token_usage cells they
 * touch, in one transaction. Calls already stored (same event id, or the same
 * response: a distinctive response id with the same model and counts, see
 * migration 0013) are skipped, so a retried batch changes nothing; the result
 * counts both kinds of skip. Each touched cell is locked (advisory, in key
 * order) before it is recomputed, so two processes writing calls of the same
 * hour cannot overwrite each other's. Calls of hours before their
 * application's prune horizon are refused (and counted in `refused`): their
 * rows may have been pruned, so a retried copy would count twice in a cell
 * that must keep its total.
 */
export async function writeTrackedCalls(client: SqlClient, tables: StoreTables, calls: readonly TrackedCallV1[]): Promise<TrackedCallsWrite> {
  if (calls.length === 0) return { inserted: 0, alreadyStored: 0, sameResponse: 0, refused: 0 };
  calls.forEach(checkCall);
  // Every text as PostgreSQL can store it (storableText), and the cells of the calls as stored.
  let rows = calls.map((call) => ({
    event_id: call.eventId,
    source_system: storableText(call.sourceSystem),
    source_instance: storableText(call.sourceInstance ?? ''),
    occurred_at: call.occurredAt.toISOString(),
    provider: storableText(call.provider),
    model: storableText(call.model ?? ''),
    operation: storableText(call.operation ?? ''),
    labels: cellLabels(call.labels ?? {}),
    tags: storableRecord(call.tags) ?? {},
    thread_id: storableText(call.threadId ?? null),
    agent_id: storableText(call.agentId ?? null),
    input_tokens: call.inputTokens,
    output_tokens: call.outputTokens,
    cached_read_tokens: call.cachedReadTokens,
    cached_write_tokens: call.cachedWriteTokens,
    cached_write_1h_tokens: call.cachedWrite1hTokens,
    reasoning_tokens: call.reasoningTokens,
    web_searches: call.webSearches,
    service_tier: storableText(call.serviceTier ?? ''),
    latency_ms: call.latencyMs,
    streaming: call.streaming,
    response_id: storableText(call.responseId ?? null),
    request_id: storableText((call as { requestId?: string | null }).requestId ?? null),
    usage_origin: call.usageOrigin,
    cost_usd: call.costUsd,
    price_ref: storableText(call.priceRef ?? null),
    unpriced_reason: storableText(call.unpricedReason ?? null),
    rate_limit_headers: storableRecord((call as { rateLimitHeaders?: Record<string, string> }).rateLimitHeaders),
  }));
  const cells = new Map<string, TrackedCell>();
  for (const row of rows) {
    const cell = cellOf(row);
    cells.set(cellKey(cell), cell);
  }
  return client.transaction(async (tx) => {
    await lockCells(tx, [...cells.keys()]);
    // Read under the cell locks: a prune deletes a cell's calls under the same lock, after recording its horizon.
    const horizons = await tx.query<{ source_system: string; pruned_before: Date }>(
      `SELECT source_system, pruned_before FROM ${tables.trackedCallHorizon} WHERE source_system = ANY($1::text[])`,
      [[...new Set(calls.map((call) => call.sourceSystem))]],
    );
    let refused = 0;
    if (horizons.length > 0) {
      const horizonOf = new Map(horizons.map((row) => [row.source_system, new Date(row.pruned_before).getTime()]));
      const kept = rows.filter((row) => {
        const horizon = horizonOf.get(row.source_system);
        return horizon === undefined || Math.floor(Date.parse(row.occurred_at) / HOUR_MS) * HOUR_MS >= horizon;
      });
      refused = rows.length - kept.length;
      rows = kept;
      if (rows.length === 0) return { inserted: 0, alreadyStored: 0, sameResponse: 0, refused };
    }
    const inserted = await tx.query<{ event_id: string }>(
      `INSERT INTO ${tables.trackedCall} AS c (event_id, source_system, source_instance, occurred_at, bucket_start, provider, model,
         operation, labels, tags, thread_id, agent_id, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens,
         cached_write_1h_tokens, reasoning_tokens, web_searches, service_tier, latency_ms, streaming, response_id, request_id,
         usage_origin, cost_usd, price_ref, unpriced_reason, rate_limit_headers)
       SELECT event_id, source_system, source_instance, occurred_at,
              date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', provider, model,
              operation, labels, tags, thread_id, agent_id, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens,
              cached_write_1h_tokens, reasoning_tokens, web_searches, service_tier, latency_ms, streaming, response_id, request_id,
              usage_origin, cost_usd, price_ref, unpriced_reason, rate_limit_headers
       FROM jsonb_to_recordset($1::jsonb) AS r(${CALL_COLUMNS})
       ON CONFLICT DO NOTHING
       RETURNING event_id`,
      [JSON.stringify(rows)],
    );
    await recomputeTrackedCells(tx, tables, [...cells.values()]);
    if (inserted.length === rows.length) return { inserted: inserted.length, alreadyStored: 0, sameResponse: 0, refused };
    // Some were skipped: those whose event id is stored came before (a retried batch); the others met the same response.
    const written = new Set(inserted.map((row) => row.event_id));
    const skipped = rows.filter((row) => !written.has(row.event_id)).map((row) => row.event_id);
    const [stored] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tables.trackedCall} WHERE event_id = ANY($1::uuid[])`, [skipped]);
    const alreadyStored = stored?.n ?? 0;
    return { inserted: inserted.length, alreadyStored, sameResponse: skipped.length - alreadyStored, refused };
  });
}

/**
 * The CTEs `parts` and `sums` of tracker cells: per cell key, the sums of its
 * calls and of its pruned calls' carry, `join` restricting both (a JOIN on
 * the touched cells, or '' for every cell). What recomputeTrackedCells writes
 * and what verifyTrackedCells checks the cells against: one formula.
 */
function cellSumsSql(tables: StoreTables, join: string): string {
  return `parts AS (
       SELECT c.source_system, c.source_instance, c.bucket_start, c.provider, c.model, c.labels,
              c.input_tokens, c.output_tokens, c.cached_read_tokens, c.cached_write_tokens, c.cached_write_1h_tokens,
              c.reasoning_tokens, 1::bigint AS requests, c.cost_usd,
              CASE WHEN ${unpricedWithTokens('c.')} THEN 1 ELSE 0 END AS unpriced,
              CASE WHEN ${usageUnknown('c.')} THEN 1 ELSE 0 END AS usage_unknown,
              CASE WHEN ${unpricedWithTokens('c.')} THEN c.unpriced_reason END AS unpriced_reason, c.price_ref
       FROM ${tables.trackedCall} c ${join}
       UNION ALL
       SELECT k.source_system, k.source_instance, k.bucket_start, k.provider, k.model, k.labels,
              k.input_tokens, k.output_tokens, k.cached_read_tokens, k.cached_write_tokens, k.cached_write_1h_tokens,
              k.reasoning_tokens, k.requests, k.cost_usd, k.unpriced_calls, k.usage_unknown_calls,
              CASE WHEN k.unpriced_calls > 0 THEN k.unpriced_reason END, k.price_ref
       FROM ${tables.trackedCellCarry} k ${join}
     ), sums AS (
       SELECT ${CELL_KEY},
              SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
              SUM(cached_read_tokens) AS cached_read_tokens, SUM(cached_write_tokens) AS cached_write_tokens,
              SUM(cached_write_1h_tokens) AS cached_write_1h_tokens, SUM(reasoning_tokens) AS reasoning_tokens,
              SUM(requests) AS requests, SUM(cost_usd) AS cost_usd, SUM(unpriced) AS unpriced, SUM(usage_unknown) AS usage_unknown,
              MIN(unpriced_reason) AS unpriced_reason, MIN(price_ref) AS price_ref, COUNT(DISTINCT price_ref) AS price_refs
       FROM parts GROUP BY ${CELL_KEY}
     )`;
}

/** A cell's cost from `sums` (SQL): the exact sum when every call with tokens is priced and every call's usage arrived, else NULL. */
const CELL_COST = `CASE WHEN unpriced + usage_unknown = 0 THEN cost_usd END`;
const CELL_COST_SOURCE = `CASE WHEN unpriced + usage_unknown = 0 AND cost_usd IS NOT NULL THEN 'computed' END`;

async function lockCells(tx: SqlClient, keys: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('utt.tracked_cell:' || key, 0))
     FROM (SELECT DISTINCT key FROM unnest($1::text[]) AS key ORDER BY key) AS keys`,
    [keys],
  );
}

/**
 * Sets each given tracker cell of token_usage (granularity 'hour') to the sum
 * of its calls plus the carry of pruned ones: a replacement, never an
 * increment (invariant 1). A counter no call reported stays NULL. The cost is
 * the exact sum when every call with tokens is priced and every call's usage
 * arrived; otherwise NULL with an unpriced_reason saying how many calls lack
 * a cost and why (CELL_UNPRICED_REASON): unpriced is never $0, and the known
 * part of an hour is never shown as the whole of it.
 *
 * Kept apart from the call insert so the store can route cells elsewhere
 * (roll-up maintenance) without touching how calls are written.
 */
export async function recomputeTrackedCells(tx: SqlClient, tables: StoreTables, cells: readonly TrackedCell[]): Promise<void> {
  if (cells.length === 0) return;
  await tx.query(
    `WITH touched AS (
       SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb)
         AS t(source_system text, source_instance text, bucket_start timestamptz, provider text, model text, labels jsonb)
     ), ${cellSumsSql(tables, 'JOIN touched USING (' + CELL_KEY + ')')}
     INSERT INTO ${tables.tokenUsage} (source_system, source_instance, granularity, bucket_start, provider, model,
       account, api_key, user_id, labels, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens,
       cached_write_1h_tokens, reasoning_tokens, requests, cost_usd, cost_source, measurement_basis, price_ref, unpriced_reason)
     SELECT source_system, source_instance, 'hour', bucket_start, provider, model, '', '', '', labels,
            input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests,
            ${CELL_COST}, ${CELL_COST_SOURCE}, 'exact',
            CASE WHEN unpriced + usage_unknown = 0 AND cost_usd IS NOT NULL THEN
              price_ref || CASE WHEN price_refs > 1 THEN ' (+' || (price_refs - 1) || ' more)' ELSE '' END END,
            ${CELL_UNPRICED_REASON}
     FROM sums
     ON CONFLICT (source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels)
     DO UPDATE SET input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
       cached_read_tokens = EXCLUDED.cached_read_tokens, cached_write_tokens = EXCLUDED.cached_write_tokens,
       cached_write_1h_tokens = EXCLUDED.cached_write_1h_tokens, reasoning_tokens = EXCLUDED.reasoning_tokens,
       requests = EXCLUDED.requests, cost_usd = EXCLUDED.cost_usd, cost_source = EXCLUDED.cost_source,
       measurement_basis = EXCLUDED.measurement_basis, price_ref = EXCLUDED.price_ref,
       unpriced_reason = EXCLUDED.unpriced_reason, updated_at = now()`,
    [JSON.stringify(cells)],
  );
}

/** The columns of a tracker cell verifyTrackedCells compares with its calls, in the order it names them. */
const VERIFIED_CELL_COLUMNS = [
  'input_tokens',
  'output_tokens',
  'cached_read_tokens',
  'cached_write_tokens',
  'cached_write_1h_tokens',
  'reasoning_tokens',
  'requests',
  'cost_usd',
  'cost_source',
  'unpriced_reason',
] as const;

/** A tracker cell that is not the sum of its calls and their carry: what it should hold and what it holds. */
export type TrackedCellMismatch = {
  readonly cell: TrackedCell;
  /** 'missing': calls (or a carry) and no cell; 'orphan': an hourly row of a tracked application with neither; else 'differs'. */
  readonly kind: 'differs' | 'missing' | 'orphan';
  /** Per differing column, the value the calls give and the stored one (decimal text; null is NULL). */
  readonly columns: Readonly<Record<string, { readonly expected: string | null; readonly stored: string | null }>>;
};

/**
 * Every tracker cell of token_usage checked against its calls plus the carry
 * of its pruned ones, in one set-based query: each token bucket (NULL and 0
 * told apart), requests, cost_usd, cost_source and the calls_unpriced reason,
 * by the formula recomputeTrackedCells writes. Also a cell missing for calls
 * that exist, and an hourly row of a tracked application (a source_system
 * with calls, a carry or a prune horizon; dimensions account, api_key and
 * user_id '') that has neither. Returns the count and the first `limit`
 * mismatches in key order.
 */
export async function verifyTrackedCells(client: SqlClient, tables: StoreTables, limit = 10): Promise<{ count: number; first: TrackedCellMismatch[] }> {
  const distinct = VERIFIED_CELL_COLUMNS.map((column) => `e.${column} IS DISTINCT FROM s.${column}`).join(' OR ');
  const rows = await client.query<Record<string, unknown> & { kind: TrackedCellMismatch['kind']; total: number }>(
    `WITH ${cellSumsSql(tables, '')}, expected AS (
       SELECT ${CELL_KEY}, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, cached_write_1h_tokens,
              reasoning_tokens, requests, ${CELL_COST} AS cost_usd, ${CELL_COST_SOURCE} AS cost_source, ${CELL_UNPRICED_REASON} AS unpriced_reason
       FROM sums
     ), tracked_systems AS (
       SELECT DISTINCT source_system FROM sums
       UNION SELECT source_system FROM ${tables.trackedCallHorizon}
     ), stored AS (
       SELECT ${CELL_KEY}, ${VERIFIED_CELL_COLUMNS.join(', ')}
       FROM ${tables.tokenUsage}
       WHERE granularity = 'hour' AND account = '' AND api_key = '' AND user_id = ''
         AND source_system IN (SELECT source_system FROM tracked_systems)
     ), mismatches AS (
       SELECT COALESCE(e.source_system, s.source_system) AS source_system, COALESCE(e.source_instance, s.source_instance) AS source_instance,
              COALESCE(e.bucket_start, s.bucket_start) AS bucket_start, COALESCE(e.provider, s.provider) AS provider,
              COALESCE(e.model, s.model) AS model, COALESCE(e.labels, s.labels) AS labels,
              CASE WHEN s.source_system IS NULL THEN 'missing' WHEN e.source_system IS NULL THEN 'orphan' ELSE 'differs' END AS kind,
              ${VERIFIED_CELL_COLUMNS.map((column) => `e.${column}::text AS e_${column}, s.${column}::text AS s_${column}, e.${column} IS DISTINCT FROM s.${column} AS d_${column}`).join(', ')}
       FROM expected e FULL JOIN stored s
         ON s.source_system = e.source_system AND s.source_instance = e.source_instance AND s.bucket_start = e.bucket_start
        AND s.provider = e.provider AND s.model = e.model AND s.labels = e.labels
       WHERE e.source_system IS NULL OR s.source_system IS NULL OR ${distinct}
     )
     SELECT *, COUNT(*) OVER ()::int AS total FROM mismatches
     ORDER BY source_system, bucket_start, source_instance, provider, model, labels::text
     LIMIT ${Math.max(1, Math.floor(limit))}`,
  );
  const first = rows.map((row): TrackedCellMismatch => {
    const columns: Record<string, { expected: string | null; stored: string | null }> = {};
    for (const column of VERIFIED_CELL_COLUMNS) {
      // Compared in SQL (NUMERIC 0.50 and 0.5 are one cost), shown as text.
      if (row[`d_${column}`]) columns[column] = { expected: (row[`e_${column}`] as string | null) ?? null, stored: (row[`s_${column}`] as string | null) ?? null };
    }
    return {
      cell: {
        source_system: row.source_system as string,
        source_instance: row.source_instance as string,
        bucket_start: new Date(row.bucket_start as string | Date).toISOString(),
        provider: row.provider as string,
        model: row.model as string,
        labels: sortedLabels(row.labels as Record<string, string>),
      },
      kind: row.kind,
      columns,
    };
  });
  return { count: rows[0]?.total ?? 0, first };
}

/**
 * Whether a budget's model scope covers a row's model (SQL): equal, or one is
 * the other with a dated snapshot's suffix (gpt-4o-mini and
 * gpt-4o-mini-2024-07-18, claude-sonnet-4-5 and claude-sonnet-4-5-20250929).
 * A request names the alias and the response, whose model a tracked call and
 * its cell carry, the snapshot; providers' admin APIs report snapshots too.
 * The same rule as @utt/tracker's modelInScope, which admits and counts the
 * calls in process.
 */
const MODEL_SNAPSHOT_SUFFIX = `'[-@]20[0-9]{2}-?[0-9]{2}-?[0-9]{2}(-v[0-9]+(:[0-9]+)?)?$'`;
function modelInScope(rowModel: string, scopeModel: string): string {
  return `(${scopeModel} IS NULL OR ${rowModel} = ${scopeModel}
           OR regexp_replace(${rowModel}, ${MODEL_SNAPSHOT_SUFFIX}, '') = ${scopeModel}
           OR ${rowModel} = regexp_replace(${scopeModel}, ${MODEL_SNAPSHOT_SUFFIX}, ''))`;
}

/**
 * Whether a token_usage row falls in a calendar period [start, finish) of a
 * reporting time zone (SQL over the given expressions; period and tz NULL:
 * every row by its bucket_start). Hourly rows count by their bucket_start;
 * with `overlappingHours`, an hourly row that a calendar period's edge cuts
 * (a zone whose offset is not a whole hour: Asia/Kolkata's day starts at
 * 18:30Z) is selected too, and the reader splits it (spendOfRow).
 * Day and month rows are UTC buckets that a local period cuts across (a UTC
 * day is 16:00–16:00 in Los Angeles): they count by their calendar date, the
 * day a provider's dashboard and invoice name them by, so the 15th's row
 * counts on the local 15th and in the local month; a month row counts toward
 * months only. The first condition keeps the bucket_start index usable.
 */
function inCalendarPeriod(row: string, start: string, finish: string, period: string, tz: string, overlappingHours = false): string {
  const utcDate = `(${row}.bucket_start AT TIME ZONE 'UTC')::date`;
  const hourFrom = overlappingHours ? `CASE WHEN ${period} IS NULL THEN ${start} ELSE ${start} - interval '1 hour' + interval '1 microsecond' END` : start;
  return `${row}.bucket_start >= ${start} - interval '1 day' AND ${row}.bucket_start < ${finish} + interval '1 day'
         AND CASE
           WHEN ${period} IS NULL OR ${row}.granularity = 'hour' THEN ${row}.bucket_start >= ${hourFrom} AND ${row}.bucket_start < ${finish}
           WHEN ${row}.granularity = 'month' AND ${period} = 'day' THEN false
           ELSE ${utcDate} >= (${start} AT TIME ZONE ${tz})::date AND ${utcDate} < (${finish} AT TIME ZONE ${tz})::date
         END`;
}

/** The key of token_usage row `u` on tracked_call (or tracked_cell_carry) `alias`: its cell. */
const cellOfRow = (alias: string) =>
  `${alias}.source_system = u.source_system AND ${alias}.source_instance = u.source_instance AND ${alias}.bucket_start = u.bucket_start
   AND ${alias}.provider = u.provider AND ${alias}.model = u.model AND ${alias}.labels = u.labels`;

/**
 * What token_usage row `u` adds to spend query `q` (SQL): its cost; for a
 * tracker cell unpriced because calls of it lack a cost, what its priced
 * calls cost (their sum plus the pruned calls' carry).
 */
const ROW_SPEND = (tables: StoreTables) => `COALESCE(u.cost_usd, CASE WHEN u.granularity = 'hour' AND u.unpriced_reason LIKE 'calls_unpriced:%' THEN
                (SELECT COALESCE(SUM(c.cost_usd), 0) FROM ${tables.trackedCall} c WHERE ${cellOfRow('c')})
                + COALESCE((SELECT k.cost_usd FROM ${tables.trackedCellCarry} k WHERE ${cellOfRow('k')}), 0) END)`;

/**
 * ROW_SPEND, except for an hourly row that a calendar period's edge cuts (a
 * reporting zone whose offset is not a whole hour): a tracker cell whose
 * calls are all still stored (as many calls as requests, so no pruned carry)
 * counts exactly the calls that occurred in [start, finish); any other such
 * row counts as hourly rows always have, by the hour it starts in (the
 * period's first, partial hour not at all, its last one whole). One copy of
 * ROW_SPEND, so the plan's estimated cost stays near the plain one's.
 */
const ROW_SPEND_SPLIT = (tables: StoreTables) => {
  const cut = `q.period IS NOT NULL AND u.granularity = 'hour' AND (u.bucket_start < q.start OR u.bucket_start + interval '1 hour' > q.finish)`;
  return `COALESCE(
           CASE WHEN ${cut} THEN
             (SELECT CASE WHEN COUNT(*) > 0 AND COUNT(*) = u.requests
                          THEN COALESCE(SUM(c.cost_usd) FILTER (WHERE c.occurred_at >= q.start AND c.occurred_at < q.finish), 0) END
              FROM ${tables.trackedCall} c WHERE ${cellOfRow('c')}) END,
           CASE WHEN ${cut} AND u.bucket_start < q.start THEN 0 END,
           ${ROW_SPEND(tables)})`;
};

/** Whether a calendar query's edge falls inside a UTC hour: a reporting zone whose offset is not a whole hour. */
const cutsHour = (query: { start: Date; end: Date; calendar?: unknown }) =>
  query.calendar !== undefined && (query.start.getTime() % HOUR_MS !== 0 || query.end.getTime() % HOUR_MS !== 0);

/**
 * Spend in USD per query, over token_usage: every source in scope (the
 * tracker's cells and every collector's rows), rows whose bucket starts in
 * [start, end). Spend is what was paid, as `utt report` counts it: metered
 * usage and flat fees, never the API-equivalent value of usage a subscription
 * covers (label billing=subscription); with `flatFeesOnly`, only the flat
 * fees (cost_source 'fixed'). One round trip for all queries.
 *
 * A tracker cell that is unpriced because some of its calls lack a cost
 * ('calls_unpriced:…') still counts what its priced calls cost (their sum,
 * pruned calls' carry included): a budget must never read an hour's known
 * spend as $0 because one call in it has no price or no usage. Only those
 * cells pay for the look-up, through the tracked_call index of their cell.
 */
export async function readSpend(client: SqlClient, tables: StoreTables, queries: readonly SpendQueryV1[]): Promise<string[]> {
  if (queries.length === 0) return [];
  // Only queries whose periods cut an hour pay for splitting it: UTC and whole-hour zones run the plain query (its plan, its cost).
  // The split one tells the planner how many queries there are (LIMIT): its guess of 100 would price the boundary look-up
  // past PostgreSQL's jit_above_cost, and compiling the plan takes longer than running it.
  const split = queries.some(cutsHour);
  const rows = await client.query<{ index: number; spend: string }>(
    `SELECT q.index, (
       SELECT COALESCE(SUM(${split ? ROW_SPEND_SPLIT(tables) : ROW_SPEND(tables)}), 0)::text
       FROM ${tables.tokenUsage} u
       WHERE ${split ? SPEND_ROW_IN_SCOPE_SPLIT : SPEND_ROW_IN_SCOPE}
         AND (NOT q.flat_fees_only OR u.cost_source = 'fixed')
     ) AS spend
     FROM ${split ? `(SELECT * FROM ${SPEND_QUERIES} LIMIT ${queries.length}) AS q` : SPEND_QUERIES}
     ORDER BY q.index`,
    [spendQueriesJson(queries)],
  );
  return rows.map((row) => row.spend);
}

/** A token_usage row `u` that counts toward spend query `q` (readSpend): its period and scope, and paid (not covered by a flat fee). */
const spendRowInScope = (overlappingHours: boolean) => `${inCalendarPeriod('u', 'q.start', 'q.finish', 'q.period', 'q.tz', overlappingHours)}
         AND (q.provider IS NULL OR lower(u.provider) = lower(q.provider))
         AND ${modelInScope('u.model', 'q.model')}
         AND (q.source_system IS NULL OR u.source_system = q.source_system)
         AND (q.labels IS NULL OR u.labels @> q.labels)
         -- What was paid, as utt report counts it: usage a flat fee already covers is not spent again.
         AND NOT (u.cost_source IS DISTINCT FROM 'fixed' AND COALESCE(u.labels->>'billing', '') = 'subscription')`;

const SPEND_ROW_IN_SCOPE = spendRowInScope(false);
/** SPEND_ROW_IN_SCOPE with the hours a period's edges cut (ROW_SPEND_SPLIT splits them). */
const SPEND_ROW_IN_SCOPE_SPLIT = spendRowInScope(true);

const SPEND_QUERIES = `jsonb_to_recordset($1::jsonb) AS q(index int, start timestamptz, finish timestamptz, period text, tz text, provider text, model text, source_system text, labels jsonb, flat_fees_only boolean)`;

function spendQueriesJson(queries: readonly SpendQueryV1[]): string {
  return JSON.stringify(
    queries.map((query, index) => ({
      index,
      start: query.start.toISOString(),
      finish: query.end.toISOString(),
      period: query.calendar?.period ?? null,
      tz: query.calendar?.timeZone ?? null,
      provider: query.scope.provider ?? null,
      model: query.scope.model ?? null,
      source_system: query.scope.sourceSystem ?? null,
      labels: query.scope.labels ? cellLabels(query.scope.labels) : null,
      flat_fees_only: query.flatFeesOnly === true,
    })),
  );
}

/**
 * Per spend query, the token_usage rows in its scope (as readSpend counts
 * them) that have usage but no cost: an unpriced model, a tracker hour with a
 * call that has no price or whose usage never arrived. readSpend counts them
 * as what their priced part cost, so a budget's spent is a lower bound when
 * this is above 0 (as `utt report` counts unpriced rows).
 */
export async function readUnpricedUsage(client: SqlClient, tables: StoreTables, queries: readonly SpendQueryV1[]): Promise<number[]> {
  if (queries.length === 0) return [];
  const rows = await client.query<{ index: number; rows: number }>(
    `SELECT q.index, (
       SELECT COUNT(*)::int FROM ${tables.tokenUsage} u
       WHERE ${SPEND_ROW_IN_SCOPE}
         AND u.cost_usd IS NULL
         AND COALESCE(u.input_tokens, 0) + COALESCE(u.cached_read_tokens, 0) + COALESCE(u.cached_write_tokens, 0) + COALESCE(u.output_tokens, 0) > 0
     ) AS rows
     FROM ${SPEND_QUERIES}
     ORDER BY q.index`,
    [spendQueriesJson(queries)],
  );
  return rows.map((row) => Number(row.rows));
}

/**
 * The distinct value combinations of label `keys` in token_usage rows whose
 * bucket starts in [start, end) and that match `scope` (rows lacking one of
 * the keys are left out): the tenants, users… a per-value budget has seen.
 */
export async function readLabelValues(
  client: SqlClient,
  tables: StoreTables,
  query: { start: Date; end: Date; keys: readonly string[]; scope?: SpendScopeV1; calendar?: SpendQueryV1['calendar'] },
): Promise<Array<Record<string, string>>> {
  if (query.keys.length === 0) return [];
  const scope = query.scope ?? {};
  const split = cutsHour(query);
  const rows = await client.query<{ values: Record<string, string> }>(
    `SELECT DISTINCT jsonb_object_agg(key, u.labels->>key) AS values
     FROM ${tables.tokenUsage} u, unnest($3::text[]) AS key
     WHERE ${inCalendarPeriod('u', '$1::timestamptz', '$2::timestamptz', '$8::text', '$9::text', split)} AND u.labels ?& $3::text[]
       ${
         split
           ? // The hour a period's start cuts (a zone whose offset is not a whole hour) counts when calls of it fall in the period, as readSpend counts it.
             `AND (u.granularity <> 'hour' OR u.bucket_start >= $1::timestamptz
                  OR EXISTS (SELECT 1 FROM ${tables.trackedCall} c WHERE ${cellOfRow('c')} AND c.occurred_at >= $1::timestamptz))`
           : ''
       }
       AND ($4::text IS NULL OR lower(u.provider) = lower($4))
       AND ${modelInScope('u.model', '$5::text')}
       AND ($6::text IS NULL OR u.source_system = $6)
       AND ($7::jsonb IS NULL OR u.labels @> $7::jsonb)
     GROUP BY u.id`,
    [
      query.start.toISOString(),
      query.end.toISOString(),
      query.keys.map((key) => storableText(key)),
      scope.provider ?? null,
      scope.model ?? null,
      scope.sourceSystem ?? null,
      scope.labels ? JSON.stringify(cellLabels(scope.labels)) : null,
      query.calendar?.period ?? null,
      query.calendar?.timeZone ?? null,
    ],
  );
  return rows.map((row) => row.values).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** A stored tracked call's cost as `utt reprice` sets it (priced again with the current prices). */
export type TrackedCallCost = {
  readonly eventId: string;
  readonly costUsd: string | null;
  readonly priceRef: string | null;
  readonly unpricedReason: string | null;
};

/** Calls whose cost setTrackedCallCosts sets per transaction. */
const COST_BATCH_SIZE = 5000;

/**
 * Sets the cost of stored tracked calls and recomputes their token_usage
 * cells from them, under the cells' locks, in transactions of at most 5,000
 * calls: a cell stays the sum of its calls (a cell priced on its own would be
 * set back to its calls' sum by the next call of its hour). Returns the calls
 * updated.
 */
export async function setTrackedCallCosts(client: SqlClient, tables: StoreTables, costs: readonly TrackedCallCost[]): Promise<number> {
  let updated = 0;
  for (let start = 0; start < costs.length; start += COST_BATCH_SIZE) {
    const batch = costs.slice(start, start + COST_BATCH_SIZE);
    updated += await client.transaction(async (tx) => {
      const cells = await tx.query<{ source_system: string; source_instance: string; bucket_start: Date; provider: string; model: string; labels: Record<string, string> }>(
        `SELECT DISTINCT ${CELL_KEY} FROM ${tables.trackedCall} WHERE event_id = ANY($1::uuid[])`,
        [batch.map((cost) => cost.eventId)],
      );
      const touched = cells.map((cell) => ({ ...cell, bucket_start: new Date(cell.bucket_start).toISOString(), labels: sortedLabels(cell.labels) }));
      await lockCells(tx, touched.map(cellKey));
      const rows = await tx.query<{ event_id: string }>(
        `UPDATE ${tables.trackedCall} AS c SET cost_usd = r.cost_usd, price_ref = r.price_ref, unpriced_reason = r.unpriced_reason
         FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, cost_usd numeric, price_ref text, unpriced_reason text)
         WHERE c.event_id = r.event_id
         RETURNING c.event_id`,
        [JSON.stringify(batch.map((cost) => ({ event_id: cost.eventId, cost_usd: cost.costUsd, price_ref: cost.priceRef, unpriced_reason: cost.unpricedReason })))],
      );
      await recomputeTrackedCells(tx, tables, touched);
      return rows.length;
    });
  }
  return updated;
}

/** Calls deleted per transaction by pruneTrackedCalls unless told otherwise. */
export const PRUNE_BATCH_SIZE = 5000;

export type PruneTrackedCallsOptions = {
  /** Calls of hours that start before this instant are pruned. */
  readonly before: Date;
  /** Only this application's calls (token_usage.source_system); default every application's. */
  readonly sourceSystem?: string;
  /** Calls per transaction (default 5000): each batch holds its cells' locks only for its own delete. */
  readonly batchSize?: number;
};

/**
 * Retention: deletes tracked calls of hours that start before `before`, in
 * batches of `batchSize` calls, one short transaction each, so writers wait
 * for one batch at most. Each batch adds the sums of the calls it deletes to
 * tracked_cell_carry in its own transaction, under the cells' locks, so a
 * token_usage cell (carry + its remaining calls) keeps its total, and the
 * budgets that read the cells keep theirs, at every moment of the prune.
 * First the prune horizon of each application is moved to `before` (never
 * back): from then on a write refuses calls of those hours, which could be a
 * retried copy of a call whose row is gone.
 */
export async function pruneTrackedCalls(client: SqlClient, tables: StoreTables, options: PruneTrackedCallsOptions): Promise<{ deleted: number; batches: number }> {
  if (!(options.before instanceof Date) || Number.isNaN(options.before.getTime())) throw new StoreArgumentError({ argument: 'before', message: 'must be a valid Date' });
  const batchSize = options.batchSize ?? PRUNE_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new StoreArgumentError({ argument: 'batchSize', message: 'must be a positive integer' });
  const filter = `bucket_start < $1 AND ($2::text IS NULL OR source_system = $2)`;
  const params = [options.before.toISOString(), options.sourceSystem ?? null];
  await client.query(
    `INSERT INTO ${tables.trackedCallHorizon} AS h (source_system, pruned_before)
     SELECT DISTINCT source_system, $1::timestamptz FROM ${tables.trackedCall} WHERE ${filter}
     UNION SELECT $2::text, $1::timestamptz WHERE $2::text IS NOT NULL
     ON CONFLICT (source_system) DO UPDATE SET pruned_before = GREATEST(h.pruned_before, EXCLUDED.pruned_before), updated_at = now()`,
    params,
  );
  const add = (column: string) =>
    `${column} = CASE WHEN k.${column} IS NULL AND EXCLUDED.${column} IS NULL THEN NULL ELSE COALESCE(k.${column}, 0) + COALESCE(EXCLUDED.${column}, 0) END`;
  let deleted = 0;
  let batches = 0;
  for (;;) {
    const count = await client.transaction(async (tx) => {
      const victims = await tx.query<{ event_id: string; source_system: string; source_instance: string; bucket_start: Date; provider: string; model: string; labels: Record<string, string> }>(
        `SELECT event_id, ${CELL_KEY} FROM ${tables.trackedCall} WHERE ${filter} ORDER BY bucket_start, event_id LIMIT ${batchSize}`,
        params,
      );
      if (victims.length === 0) return 0;
      await lockCells(
        tx,
        victims.map((cell) => cellKey({ ...cell, bucket_start: new Date(cell.bucket_start).toISOString(), labels: sortedLabels(cell.labels) })),
      );
      // Only the rows this statement deletes are carried: a row another prune took meanwhile is neither deleted nor carried twice.
      const gone = await tx.query<{ deleted: number }>(
        `WITH gone AS (
           DELETE FROM ${tables.trackedCall} WHERE event_id = ANY($1::uuid[]) RETURNING *
         ), carried AS (
           INSERT INTO ${tables.trackedCellCarry} AS k (${CELL_KEY}, input_tokens, output_tokens, cached_read_tokens, cached_write_tokens,
             cached_write_1h_tokens, reasoning_tokens, requests, cost_usd, unpriced_calls, usage_unknown_calls, unpriced_reason, price_ref)
           SELECT ${CELL_KEY}, SUM(input_tokens), SUM(output_tokens), SUM(cached_read_tokens), SUM(cached_write_tokens),
                  SUM(cached_write_1h_tokens), SUM(reasoning_tokens), COUNT(*), SUM(cost_usd),
                  SUM(CASE WHEN ${unpricedWithTokens('')} THEN 1 ELSE 0 END), SUM(CASE WHEN ${usageUnknown('')} THEN 1 ELSE 0 END),
                  MIN(CASE WHEN ${unpricedWithTokens('')} THEN unpriced_reason END), MIN(price_ref)
           FROM gone
           GROUP BY ${CELL_KEY}
           ON CONFLICT (${CELL_KEY}) DO UPDATE SET ${['input_tokens', 'output_tokens', 'cached_read_tokens', 'cached_write_tokens', 'cached_write_1h_tokens', 'reasoning_tokens', 'cost_usd'].map(add).join(', ')},
             requests = k.requests + EXCLUDED.requests, unpriced_calls = k.unpriced_calls + EXCLUDED.unpriced_calls,
             usage_unknown_calls = k.usage_unknown_calls + EXCLUDED.usage_unknown_calls,
             unpriced_reason = LEAST(k.unpriced_reason, EXCLUDED.unpriced_reason), price_ref = COALESCE(k.price_ref, EXCLUDED.price_ref),
             updated_at = now()
         )
         SELECT COUNT(*)::int AS deleted FROM gone`,
        [victims.map((victim) => victim.event_id)],
      );
      return gone[0]?.deleted ?? 0;
    });
    if (count === 0) break;
    deleted += count;
    batches += 1;
  }
  return { deleted, batches };
}

/** What the tracker's sink does with the rate-limit headers of the calls it writes. */
export type TrackerSinkOptions = {
  /**
   * Turn each flushed batch's rate-limit headers into quota readings
   * (obtainedVia 'piggyback'): the application's own responses become the
   * quota history, with no extra call. Default on when the store can write
   * readings; `false` turns it off.
   */
  readonly quotaReadings?:
    | false
    | {
        /** The quota_reading source (default `tracker:<application>`). */
        readonly source?: string;
        /** The account of the readings: an alias, never a key (default the application, the calls' source_system). */
        readonly account?: string;
      };
};

const PIGGYBACK_PROVIDERS = new Set(['anthropic', 'openai', 'xai']);

/**
 * The quota readings of a batch of calls: per source, only the newest reading
 * of each (provider, account, window), so a flush costs a few rows however
 * many calls it holds. Calls without headers, or of providers whose headers
 * are not read, give none; a reading that fails validation is left out.
 */
export function piggybackQuotaReadings(calls: readonly TrackedCallV1[], options: Exclude<TrackerSinkOptions['quotaReadings'], false> = {}): Map<string, QuotaReading[]> {
  const newest = new Map<string, QuotaReading>();
  for (const call of calls) {
    const headers = (call as { rateLimitHeaders?: Readonly<Record<string, string>> }).rateLimitHeaders;
    const provider = call.provider.toLowerCase();
    if (!headers || !PIGGYBACK_PROVIDERS.has(provider)) continue;
    const source = options.source ?? `tracker:${call.sourceSystem}`;
    const readings = quotaReadingsFromHeaders(headers, {
      provider: provider as 'anthropic' | 'openai' | 'xai',
      account: options.account ?? call.sourceSystem,
      observedAt: call.occurredAt,
      obtainedVia: 'piggyback',
    });
    for (const input of readings) {
      let reading: QuotaReading;
      try {
        reading = parseQuotaReading(input, { source });
      } catch {
        // A reading that cannot be stored must never hold back the calls' batch (it would be retried forever).
        continue;
      }
      const key = JSON.stringify([source, reading.provider, reading.account, reading.window]);
      const kept = newest.get(key);
      if (!kept || kept.observedAt <= reading.observedAt) newest.set(key, reading);
    }
  }
  const bySource = new Map<string, QuotaReading[]>();
  for (const reading of newest.values()) {
    const list = bySource.get(reading.source) ?? [];
    list.push(reading);
    bySource.set(reading.source, list);
  }
  return bySource;
}

/**
 * The store as @utt/tracker's sink: `createTracker({ application, sink: createTrackerSink(store) })`.
 * Each flush also stores the quota readings of the batch's rate-limit headers (see TrackerSinkOptions).
 */
export function createTrackerSink(
  store: {
    writeTrackedCalls(calls: readonly TrackedCallV1[]): Promise<Partial<TrackedCallsWrite> | undefined | void>;
    readSpend(queries: readonly SpendQueryV1[]): Promise<readonly string[]>;
    writeQuotaReadings?(write: QuotaReadingsWrite): Promise<unknown>;
  },
  options: TrackerSinkOptions = {},
): TrackerSinkV1 {
  const quota = options.quotaReadings === false ? undefined : (options.quotaReadings ?? {});
  return {
    specificationVersion: 'v1',
    write: async (calls) => {
      const written = await store.writeTrackedCalls(calls);
      // What the ledger skipped or refused goes back to the tracker, which counts and reports it (never silent).
      const result = { alreadyStored: written?.alreadyStored ?? 0, sameResponse: written?.sameResponse ?? 0, refused: written?.refused ?? 0 };
      if (!quota || !store.writeQuotaReadings) return result;
      for (const [source, readings] of piggybackQuotaReadings(calls, quota)) {
        // recordStatus false: piggyback readings come and go with the application's traffic;
        // a quiet application is not a failing quota source for the watchdog.
        await store.writeQuotaReadings({ source, sourceSystem: source, readings, recordStatus: false });
      }
      return result;
    },
    readSpend: (queries) => store.readSpend(queries),
  };
}
