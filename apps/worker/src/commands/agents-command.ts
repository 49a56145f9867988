import type { UsageStore } from '@utt/postgres';
import { formatCount, formatTable, formatUsd } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseTimeFlag, UsageError } from './parse-time-flag';

/** The source systems written by the coding-agent adapters. */
export const AGENT_SOURCE_SYSTEMS = ['claude_code', 'codex_cli', 'gemini_cli'] as const;

const VIEWS = ['daily', 'monthly', 'session'] as const;
type AgentsView = (typeof VIEWS)[number];

type AgentsOptions = { view: AgentsView; since?: Date; until?: Date; instance?: string; json?: boolean };

type AgentSqlRow = {
  period: string;
  source_system: string;
  source_instance: string;
  project: string;
  session: string;
  model: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cached_write_tokens: number | null;
  cost_usd: string | null;
  unpriced_tokens: number;
  last_activity: Date;
};

/** One line of a view: a day, a month, or a session. */
export type AgentsLine = {
  /** `2026-03-01`, `2026-03`, or the session id. */
  readonly key: string;
  readonly agent?: string;
  readonly instance?: string;
  readonly project?: string;
  readonly lastActivity?: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheCreationTokens: number;
  readonly cacheReadTokens: number;
  readonly totalTokens: number;
  /** Priced rows only; null when none is priced. */
  readonly totalCost: string | null;
  /** Tokens whose model has no price (not counted as $0). */
  readonly unpricedTokens: number;
  readonly modelsUsed: string[];
};

/**
 * `utt agents [daily|monthly|session]`: coding-agent usage from the database,
 * laid out like ccusage's reports, for every machine that writes to it.
 * Days and months are UTC.
 */
export async function agentsCommand(
  runtime: Runtime,
  view: string | undefined,
  flags: { since?: string; until?: string; instance?: string; json?: boolean },
): Promise<number> {
  const chosen = view ?? 'daily';
  if (!(VIEWS as readonly string[]).includes(chosen)) throw new UsageError('utt agents: the view must be daily, monthly or session');
  const options: AgentsOptions = {
    view: chosen as AgentsView,
    since: parseTimeFlag('since', flags.since, undefined, 'agents'),
    until: parseTimeFlag('until', flags.until, undefined, 'agents'),
    instance: flags.instance,
    json: flags.json,
  };
  const store = await openConfiguredStore(runtime);
  try {
    const lines = await queryAgents(store, options);
    process.stdout.write(options.json ? `${JSON.stringify(toJson(lines, options.view), null, 2)}\n` : `${formatAgents(lines, options.view)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function queryAgents(store: UsageStore, options: Omit<AgentsOptions, 'json'>): Promise<AgentsLine[]> {
  const params: unknown[] = [[...AGENT_SOURCE_SYSTEMS]];
  const conditions = ['source_system = ANY($1)'];
  if (options.since) {
    params.push(options.since);
    conditions.push(`bucket_start >= $${params.length}`);
  }
  if (options.until) {
    params.push(options.until);
    conditions.push(`bucket_start < $${params.length}`);
  }
  if (options.instance) {
    params.push(options.instance);
    conditions.push(`source_instance = $${params.length}`);
  }
  // Whitelisted fragments: the period cannot be a bind parameter.
  const period =
    options.view === 'session'
      ? `''`
      : `to_char(bucket_start AT TIME ZONE 'UTC', '${options.view === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM'}')`;
  const sessionColumns = options.view === 'session' ? `source_system, source_instance, labels->>'project', labels->>'session'` : `'', '', '', ''`;
  const rows = await store.client.query<AgentSqlRow>(
    `SELECT ${period} AS period,
            ${sessionColumns.split(', ').map((column, index) => `COALESCE(${column}, '') AS ${['source_system', 'source_instance', 'project', 'session'][index]}`).join(', ')},
            model,
            SUM(input_tokens)::bigint AS input_tokens,
            SUM(output_tokens)::bigint AS output_tokens,
            SUM(cached_read_tokens)::bigint AS cached_read_tokens,
            SUM(cached_write_tokens)::bigint AS cached_write_tokens,
            SUM(cost_usd)::text AS cost_usd,
            COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0))
              FILTER (WHERE cost_usd IS NULL), 0)::bigint AS unpriced_tokens,
            MAX(bucket_start) AS last_activity
     FROM "${store.schema}".token_usage
     WHERE ${conditions.join(' AND ')}
     GROUP BY 1, 2, 3, 4, 5, 6
     ORDER BY 1, 2, 3, 4, 5, 6`,
    params,
  );
  const lines = new Map<string, AgentsLine & { costParts: string[]; last: number }>();
  for (const row of rows) {
    const key = options.view === 'session' ? JSON.stringify([row.source_system, row.source_instance, row.project, row.session]) : row.period;
    let line = lines.get(key);
    if (!line) {
      line = {
        key: options.view === 'session' ? row.session : row.period,
        ...(options.view === 'session' ? { agent: row.source_system, instance: row.source_instance, project: row.project } : {}),
        inputTokens: 0,
        outputTokens: 0,
        cacheCreationTokens: 0,
        cacheReadTokens: 0,
        totalTokens: 0,
        totalCost: null,
        unpricedTokens: 0,
        modelsUsed: [],
        costParts: [],
        last: 0,
      };
      lines.set(key, line);
    }
    const mutable = line as { -readonly [K in keyof AgentsLine]: AgentsLine[K] } & { costParts: string[]; last: number };
    mutable.inputTokens += row.input_tokens ?? 0;
    mutable.outputTokens += row.output_tokens ?? 0;
    mutable.cacheCreationTokens += row.cached_write_tokens ?? 0;
    mutable.cacheReadTokens += row.cached_read_tokens ?? 0;
    mutable.totalTokens += (row.input_tokens ?? 0) + (row.output_tokens ?? 0) + (row.cached_write_tokens ?? 0) + (row.cached_read_tokens ?? 0);
    mutable.unpricedTokens += row.unpriced_tokens;
    if (row.cost_usd !== null) mutable.costParts.push(row.cost_usd);
    if (!mutable.modelsUsed.includes(row.model) && row.model !== '') mutable.modelsUsed.push(row.model);
    mutable.last = Math.max(mutable.last, row.last_activity.getTime());
  }
  const result = [...lines.values()].map(({ costParts, last, ...line }) => ({
    ...line,
    totalCost: costParts.length === 0 ? null : sumDecimals(costParts),
    ...(options.view === 'session' ? { lastActivity: new Date(last).toISOString() } : {}),
  }));
  if (options.view === 'session') result.sort((a, b) => (a.lastActivity ?? '').localeCompare(b.lastActivity ?? ''));
  return result;
}

/** Exact decimal addition of NUMERIC strings (12 fraction digits is the store's scale). */
function sumDecimals(values: readonly string[]): string {
  const scale = 12;
  let total = 0n;
  for (const value of values) {
    const [whole = '0', fraction = ''] = value.split('.');
    total += BigInt(whole) * 10n ** BigInt(scale) + BigInt((fraction + '0'.repeat(scale)).slice(0, scale) || '0');
  }
  const text = total.toString().padStart(scale + 1, '0');
  const fraction = text.slice(-scale).replace(/0+$/, '');
  return fraction ? `${text.slice(0, -scale)}.${fraction}` : text.slice(0, -scale);
}

function toJson(lines: readonly AgentsLine[], view: AgentsView) {
  const totals = lines.reduce(
    (sum, line) => ({
      inputTokens: sum.inputTokens + line.inputTokens,
      outputTokens: sum.outputTokens + line.outputTokens,
      cacheCreationTokens: sum.cacheCreationTokens + line.cacheCreationTokens,
      cacheReadTokens: sum.cacheReadTokens + line.cacheReadTokens,
      totalTokens: sum.totalTokens + line.totalTokens,
      unpricedTokens: sum.unpricedTokens + line.unpricedTokens,
      costs: line.totalCost === null ? sum.costs : [...sum.costs, line.totalCost],
    }),
    { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, unpricedTokens: 0, costs: [] as string[] },
  );
  const { costs, ...rest } = totals;
  const name = view === 'daily' ? 'daily' : view === 'monthly' ? 'monthly' : 'sessions';
  const keyName = view === 'daily' ? 'date' : view === 'monthly' ? 'month' : 'sessionId';
  return {
    [name]: lines.map(({ key, ...line }) => ({ [keyName]: key, ...line })),
    totals: { ...rest, totalCost: costs.length === 0 ? null : sumDecimals(costs) },
  };
}

export function formatAgents(lines: readonly AgentsLine[], view: AgentsView): string {
  if (lines.length === 0) return 'no coding-agent usage recorded for this range';
  const first = view === 'daily' ? 'date (UTC)' : view === 'monthly' ? 'month (UTC)' : 'session';
  const extra = view === 'session' ? ['agent', 'machine', 'project', 'last activity'] : [];
  const headers = [first, ...extra, 'models', 'input', 'output', 'cache create', 'cache read', 'total tokens', 'cost (API-equivalent)'];
  const table = formatTable(
    headers,
    lines.map((line) => [
      line.key,
      ...(view === 'session' ? [line.agent ?? '', line.instance ?? '', line.project ?? '', (line.lastActivity ?? '').slice(0, 16)] : []),
      line.modelsUsed.join(', '),
      formatCount(line.inputTokens),
      formatCount(line.outputTokens),
      formatCount(line.cacheCreationTokens),
      formatCount(line.cacheReadTokens),
      formatCount(line.totalTokens),
      line.totalCost === null ? '–' : formatUsd(line.totalCost) + (line.unpricedTokens > 0 ? ' +unpriced' : ''),
    ]),
    new Set(Array.from({ length: 6 }, (_, index) => headers.length - 6 + index)),
  );
  const unpriced = lines.reduce((sum, line) => sum + line.unpricedTokens, 0);
  const cost = toJson(lines, view).totals.totalCost;
  return `${table}\n\ntotal ${formatUsd(cost)} API-equivalent${
    unpriced > 0 ? `; ${formatCount(unpriced)} tokens have no price (not counted as $0)` : ''
  }\n(rows labelled billing: subscription are covered by a flat-fee plan: their cost is what the same tokens would cost on the API)`;
}
