import verificationSql from '../../../sql/queries/verification.sql';
import { parseNamedQueries, requireQuery } from './named-queries';
import { renderSql, type StoreTables } from './schema-name';
import { HEARTBEAT_SOURCE } from './source-status';
import type { SqlClient } from './sql-client';
import { type TrackedCellMismatch, verifyTrackedCells } from './tracked-calls';

/** What verify needs to know about each configured source. */
export type VerifySource = {
  readonly name: string;
  readonly sourceSystem: string;
  /** The cache columns the adapter fills: 'none' leaves all of them NULL, 'read' leaves the write ones NULL. */
  readonly cacheTokens: 'none' | 'read' | 'read_write';
  readonly enabled: boolean;
  readonly paused: boolean;
};

export type VerifyOptions = { readonly sources: readonly VerifySource[] };

export type VerificationCheck = {
  /** Stable, e.g. `rows:openai_api`, `cache-null:copilot`, `status:openai-main`, `heartbeat`. */
  readonly name: string;
  readonly ok: boolean;
  /** What was found, in a sentence; names the offending rows or sources when there are any. */
  readonly detail: string;
};

const queries = parseNamedQueries(verificationSql);

/**
 * The smoke checks of sql/queries/verification.sql, judged against the
 * configured sources. Every check is returned, passing or not, so a report can
 * show what was verified.
 */
export async function verify(client: SqlClient, tables: StoreTables, options: VerifyOptions): Promise<VerificationCheck[]> {
  const run = <T>(name: string): Promise<T[]> => client.query<T>(renderSql(requireQuery(queries, name), tables));
  const [rowsPerSystem, cacheValues, [violations], unalignedWatermarks, statusRows, trackedCells] = await Promise.all([
    run<{ source_system: string; row_count: number }>('rows_per_source_system'),
    run<CacheValuesRow>('cache_values_per_source_system'),
    run<ViolationsRow>('row_invariant_violations'),
    run<{ source: string; granularity: string; watermark: Date }>('unaligned_watermarks'),
    run<{ source: string }>('watchdog_sources'),
    verifyTrackedCells(client, tables),
  ]);

  const checks: VerificationCheck[] = [];
  const rowCounts = new Map(rowsPerSystem.map((row) => [row.source_system, row.row_count]));
  const activeSystems = unique(
    options.sources.filter((source) => source.enabled && !source.paused).map((source) => source.sourceSystem),
  );
  for (const sourceSystem of activeSystems) {
    const count = rowCounts.get(sourceSystem) ?? 0;
    checks.push({
      name: `rows:${sourceSystem}`,
      ok: count > 0,
      detail: count > 0 ? `${count} rows for source_system ${sourceSystem}` : `no rows for source_system ${sourceSystem}`,
    });
  }

  const cacheBySystem = new Map(cacheValues.map((row) => [row.source_system, row]));
  for (const [sourceSystem, cacheTokens] of cacheCapabilities(options.sources)) {
    if (cacheTokens === 'read_write') continue;
    const values = cacheBySystem.get(sourceSystem);
    const problems: string[] = [];
    if (cacheTokens === 'none' && values && values.cached_read_rows > 0) {
      problems.push(`${values.cached_read_rows} rows set cached_read_tokens (${values.cached_read_zero_rows} of them to 0)`);
    }
    if (values && values.cached_write_rows > 0) {
      problems.push(`${values.cached_write_rows} rows set cached_write_tokens (${values.cached_write_zero_rows} of them to 0)`);
    }
    const reported = cacheTokens === 'none' ? 'no cache data' : 'cache reads only';
    checks.push({
      name: `cache-null:${sourceSystem}`,
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${sourceSystem} reports ${reported} and leaves the other cache columns NULL`
          : `${sourceSystem} reports ${reported}, so these must be NULL, not 0: ${problems.join('; ')}`,
    });
  }

  checks.push(
    countCheck('cached-write-1h-within-cached-write', violations?.cached_write_1h_over_cached_write, 'rows with cached_write_1h_tokens > cached_write_tokens'),
    countCheck('reasoning-within-output', violations?.reasoning_over_output, 'rows with reasoning_tokens > output_tokens'),
    countCheck('no-negative-counters', violations?.negative_counters, 'rows with a negative counter'),
    countCheck('cost-with-cost-source', violations?.cost_without_cost_source, 'rows where exactly one of cost_usd and cost_source is set'),
  );

  checks.push({
    name: 'watermarks-aligned',
    ok: unalignedWatermarks.length === 0,
    detail:
      unalignedWatermarks.length === 0
        ? 'every watermark sits on a UTC boundary of its granularity'
        : `not on a UTC boundary of their granularity: ${unalignedWatermarks
            .map((row) => `${row.source} (${row.granularity}, ${row.watermark.toISOString()})`)
            .join(', ')}`,
  });

  checks.push({
    name: 'tracked-cells-equal-calls',
    ok: trackedCells.count === 0,
    detail:
      trackedCells.count === 0
        ? 'every hourly cell of a tracked application equals the sum of its calls and its pruned calls\' carry'
        : `${trackedCells.count === 1 ? "1 hourly cell of a tracked application is not the sum of its calls and its pruned calls' carry" : `${trackedCells.count} hourly cells of tracked applications are not the sum of their calls and pruned calls' carry`}${
            trackedCells.count > trackedCells.first.length ? ` (the first ${trackedCells.first.length})` : ''
          }: ${trackedCells.first.map(describeMismatch).join('; ')}`,
  });

  const statusSources = new Set(statusRows.map((row) => row.source));
  for (const source of options.sources.filter((candidate) => candidate.enabled)) {
    const present = statusSources.has(source.name);
    checks.push({
      name: `status:${source.name}`,
      ok: present,
      detail: present ? `watchdog_status has a row for ${source.name}` : `no watchdog_status row for ${source.name}`,
    });
  }
  const heartbeatPresent = statusSources.has(HEARTBEAT_SOURCE);
  checks.push({
    name: 'heartbeat',
    ok: heartbeatPresent,
    detail: heartbeatPresent ? `watchdog_status has the ${HEARTBEAT_SOURCE} row` : `no ${HEARTBEAT_SOURCE} row: the worker has not run`,
  });
  return checks;
}

/** One mismatching cell as verify names it: its key, then expected (from the calls) vs stored per column. */
function describeMismatch(mismatch: TrackedCellMismatch): string {
  const { cell } = mismatch;
  const labels = Object.entries(cell.labels).map(([key, value]) => `${key}=${value}`).join(',');
  const key = `${cell.source_system}/${cell.source_instance || "''"} ${cell.bucket_start} ${cell.provider}/${cell.model || "''"}${labels ? ` {${labels}}` : ''}`;
  if (mismatch.kind === 'missing') return `${key}: no cell for its calls`;
  const shown = (value: string | null) => (value === null ? 'NULL' : value);
  if (mismatch.kind === 'orphan') {
    const stored = Object.entries(mismatch.columns).map(([column, { stored }]) => `${column} ${shown(stored)}`);
    return `${key}: a cell without calls or a carry (stored ${stored.join(', ')})`;
  }
  return `${key}: ${Object.entries(mismatch.columns).map(([column, { expected, stored }]) => `${column} expected ${shown(expected)}, stored ${shown(stored)}`).join(', ')}`;
}

type CacheValuesRow = {
  source_system: string;
  cached_read_zero_rows: number;
  cached_read_rows: number;
  cached_write_zero_rows: number;
  cached_write_rows: number;
};

type ViolationsRow = {
  cached_write_1h_over_cached_write: number;
  reasoning_over_output: number;
  negative_counters: number;
  cost_without_cost_source: number;
};

function countCheck(name: string, count: number | undefined, what: string): VerificationCheck {
  const found = count ?? 0;
  return { name, ok: found === 0, detail: found === 0 ? `no ${what}` : `${found} ${what}` };
}

/**
 * The widest cache capability per source_system: rows carry the source_system,
 * not the configured source, so a cache column must be NULL only when no
 * source of that system reports it.
 */
function cacheCapabilities(sources: readonly VerifySource[]): Map<string, VerifySource['cacheTokens']> {
  const order: VerifySource['cacheTokens'][] = ['none', 'read', 'read_write'];
  const capabilities = new Map<string, VerifySource['cacheTokens']>();
  for (const source of sources) {
    const current = capabilities.get(source.sourceSystem);
    if (current === undefined || order.indexOf(source.cacheTokens) > order.indexOf(current)) {
      capabilities.set(source.sourceSystem, source.cacheTokens);
    }
  }
  return capabilities;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
