/**
 * A deterministic history of LiteLLM proxy counters, written as OpenMetrics
 * text with timestamps (for `promtool tsdb create-blocks-from openmetrics`),
 * together with the hourly totals the generator itself booked. The expected
 * numbers come from the simulated requests, never from the adapter's code.
 *
 * The story: several models, keys and teams; every series scraped every
 * `scrapeIntervalSeconds`; a proxy restart that drops every counter to zero
 * mid-day; a key whose series first appears on the second day; a series that
 * vanishes for hours (LiteLLM's end-user TTL) and comes back from zero; cache
 * reads that only get a series once non-zero (LiteLLM's sparse detail
 * counters); and no cache-write series at all.
 */

export type HistoryCombo = {
  readonly model: string;
  readonly provider: string;
  readonly hashedKey: string;
  /** "None" when the key has no alias: the adapter then uses the hash. */
  readonly keyAlias: string;
  readonly team: string;
  readonly teamAlias: string;
  readonly user: string;
  readonly cacheReads: boolean;
  readonly reasoning: boolean;
  /** Seconds after the history start when the combo gets its first traffic. */
  readonly activeFrom?: number;
  /** [from, to) seconds after the start during which the combo's series are gone (TTL) and idle. */
  readonly vanished?: readonly [number, number];
};

export type ExpectedHour = {
  readonly bucket_start: string;
  readonly provider: string;
  readonly model: string;
  readonly account: string;
  readonly api_key: string;
  readonly user_id: string;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly cached_read_tokens: number | null;
  readonly cached_write_tokens: null;
  readonly reasoning_tokens: number | null;
  readonly requests: number | null;
};

export type ExpectedSpendDay = { readonly day: string; readonly provider: string; readonly account: string; readonly model: string; readonly micros: number };

export type LitellmHistory = {
  readonly openMetrics: string;
  readonly start: Date;
  readonly end: Date;
  /** Restarts, as instants (the proxy came back right after the scrape at that time). */
  readonly restarts: readonly Date[];
  readonly expected: readonly ExpectedHour[];
  readonly expectedSpend: readonly ExpectedSpendDay[];
  readonly seriesCount: number;
  readonly sampleCount: number;
};

export type HistoryOptions = {
  /** Aligned to a UTC hour. */
  readonly start: Date;
  readonly hours: number;
  readonly scrapeIntervalSeconds?: number;
  readonly combos?: readonly HistoryCombo[];
  /** Seconds after start; default: the second day at 13:30. */
  readonly restartsAt?: readonly number[];
  readonly seed?: number;
  /** Prometheus's lookback delta: a series is visible this long after its last sample. */
  readonly lookbackSeconds?: number;
};

const METRICS = {
  input: 'litellm_input_tokens_metric',
  output: 'litellm_output_tokens_metric',
  cacheRead: 'litellm_input_cached_tokens_metric',
  reasoning: 'litellm_output_reasoning_tokens_metric',
  requests: 'litellm_requests_metric',
  spend: 'litellm_spend_metric',
} as const;
type MetricKey = keyof typeof METRICS;
const METRIC_KEYS = Object.keys(METRICS) as MetricKey[];

const HOUR = 3600;
/** Sample timestamps sit this many seconds after the scrape grid, never on an hour boundary. */
const SAMPLE_OFFSET = 7;

export const DEFAULT_COMBOS: readonly HistoryCombo[] = [
  { model: 'gpt-4o', provider: 'openai', hashedKey: '9f2c1a', keyAlias: 'ci-bot', team: 't-platform', teamAlias: 'platform', user: 'u-ci', cacheReads: true, reasoning: false },
  { model: 'gpt-4o', provider: 'openai', hashedKey: '4b7e0d', keyAlias: 'None', team: 't-research', teamAlias: 'research', user: 'alice', cacheReads: true, reasoning: false },
  { model: 'claude-sonnet-4-6', provider: 'anthropic', hashedKey: '9f2c1a', keyAlias: 'ci-bot', team: 't-platform', teamAlias: 'platform', user: 'u-ci', cacheReads: true, reasoning: true },
  // Appears late: first traffic on the second day at 09:20.
  { model: 'claude-sonnet-4-6', provider: 'anthropic', hashedKey: 'c3d9e8', keyAlias: 'alice-laptop', team: 'None', teamAlias: 'None', user: 'alice', cacheReads: false, reasoning: true, activeFrom: 24 * HOUR + 9 * HOUR + 20 * 60 },
  // Vanishes from 15:10 to 17:40 on the first day and comes back from zero.
  { model: 'llama3.1:8b', provider: 'ollama', hashedKey: 'c3d9e8', keyAlias: 'alice-laptop', team: 'None', teamAlias: 'None', user: 'alice', cacheReads: false, reasoning: false, vanished: [15 * HOUR + 10 * 60, 17 * HOUR + 40 * 60] },
  { model: 'llama3.1:8b', provider: 'ollama', hashedKey: '9f2c1a', keyAlias: 'ci-bot', team: 't-platform', teamAlias: 'platform', user: 'u-ci', cacheReads: false, reasoning: false },
];

/** mulberry32: a small seeded PRNG, so every run writes the same history. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function labelsOf(combo: HistoryCombo): string {
  const labels: [string, string][] = [
    ['api_key_alias', combo.keyAlias],
    ['api_provider', combo.provider],
    ['end_user', 'None'],
    ['hashed_api_key', combo.hashedKey],
    ['model', combo.model],
    ['requested_model', combo.model],
    ['team', combo.team],
    ['team_alias', combo.teamAlias],
    ['user', combo.user],
  ];
  return labels.map(([key, value]) => `${key}="${value}"`).join(',');
}

export function generateLitellmHistory(options: HistoryOptions): LitellmHistory {
  const interval = options.scrapeIntervalSeconds ?? 60;
  const lookback = options.lookbackSeconds ?? 300;
  const combos = options.combos ?? DEFAULT_COMBOS;
  const restarts = options.restartsAt ?? [24 * HOUR + 13 * HOUR + 30 * 60];
  const startSeconds = options.start.getTime() / 1000;
  if (startSeconds % HOUR !== 0) throw new Error('history start must be on an hour boundary');
  if (HOUR % interval !== 0) throw new Error('scrape interval must divide an hour');
  const next = random(options.seed ?? 42);
  const scrapes = (options.hours * HOUR) / interval;

  // Per combo and metric: the exposition lines, and per hour the increments and whether the series was visible.
  type Series = { lines: string[]; value: number; exists: boolean };
  type HourBook = Record<MetricKey, number> & { visible: Set<MetricKey>; uncached: number };
  const state = combos.map(() => Object.fromEntries(METRIC_KEYS.map((key) => [key, { lines: [], value: 0, exists: false } as Series])) as Record<MetricKey, Series>);
  const books = combos.map(() => new Map<number, HourBook>());
  const book = (comboIndex: number, hour: number): HourBook => {
    const comboBooks = books[comboIndex] as Map<number, HourBook>;
    let entry = comboBooks.get(hour);
    if (!entry) {
      entry = { input: 0, output: 0, cacheRead: 0, reasoning: 0, requests: 0, spend: 0, uncached: 0, visible: new Set() };
      comboBooks.set(hour, entry);
    }
    return entry;
  };
  let sampleCount = 0;

  for (let scrape = 1; scrape <= scrapes; scrape++) {
    const offset = scrape * interval - interval + SAMPLE_OFFSET;
    const time = startSeconds + offset;
    const hour = Math.floor(time / HOUR) * HOUR;
    combos.forEach((combo, comboIndex) => {
      const series = state[comboIndex] as Record<MetricKey, Series>;
      const vanished = combo.vanished && offset >= combo.vanished[0] && offset < combo.vanished[1];
      if (vanished) {
        for (const key of METRIC_KEYS) Object.assign(series[key], { value: 0, exists: false });
      }
      const active = !vanished && offset >= (combo.activeFrom ?? 0);
      // The requests served since the previous scrape, exposed by this one.
      const requests = active && next() >= 0.45 ? 1 + Math.floor(next() * 3) : 0;
      const entry = book(comboIndex, hour);
      for (let request = 0; request < requests; request++) {
        const uncached = 50 + Math.floor(next() * 950);
        const cacheRead = combo.cacheReads && next() < 0.4 ? 1 + Math.floor(next() * 2000) : 0;
        const output = 10 + Math.floor(next() * 500);
        const reasoning = combo.reasoning && next() < 0.7 ? 1 + Math.floor(next() * output * 0.5) : 0;
        const spendMicros = uncached * 3 + cacheRead + output * 12;
        const increments: Record<MetricKey, number> = { input: uncached + cacheRead, output, cacheRead, reasoning, requests: 1, spend: spendMicros };
        for (const key of METRIC_KEYS) {
          // Always-on counters get a series on the first request; the detail counters only once non-zero.
          const sparse = key === 'cacheRead' || key === 'reasoning';
          if (sparse && increments[key] === 0) continue;
          series[key].exists = true;
          series[key].value += increments[key];
          entry[key] += increments[key];
        }
        entry.uncached += uncached;
      }
      for (const key of METRIC_KEYS) {
        const item = series[key];
        if (!item.exists) continue;
        const text = key === 'spend' ? (item.value / 1e6).toFixed(6) : String(item.value);
        item.lines.push(`${METRICS[key]}_total{${labelsOf(combo)}} ${text} ${time}`);
        sampleCount++;
        // Prometheus still sees this sample for `lookback` seconds, so the next hour's first
        // evaluation (one interval after the boundary) may find it: the series is present there, with no increase.
        for (let visibleHour = Math.floor(time / HOUR) * HOUR; visibleHour + interval - lookback < time; visibleHour += HOUR) {
          book(comboIndex, visibleHour).visible.add(key);
        }
      }
    });
    if (restarts.some((at) => at >= offset && at < offset + interval)) {
      // The proxy restarts right after this scrape: every counter is gone and starts again from zero.
      for (const series of state) for (const key of METRIC_KEYS) Object.assign(series[key], { value: 0, exists: false });
    }
  }

  const families = METRIC_KEYS.map((key) => {
    const lines = state.flatMap((series) => series[key].lines);
    return `# HELP ${METRICS[key]} LiteLLM ${key}\n# TYPE ${METRICS[key]} counter\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
  });
  const openMetrics = `${families.join('')}# EOF\n`;

  // Rows as the adapter should write them: key alias preferred over its hash, team alias over team id.
  const rows = new Map<string, { base: Omit<ExpectedHour, 'input_tokens' | 'output_tokens' | 'cached_read_tokens' | 'cached_write_tokens' | 'reasoning_tokens' | 'requests'>; book: HourBook }>();
  const spend = new Map<string, ExpectedSpendDay>();
  const endSeconds = startSeconds + options.hours * HOUR;
  combos.forEach((combo, comboIndex) => {
    for (const [hour, entry] of books[comboIndex] as Map<number, HourBook>) {
      if (hour >= endSeconds || entry.visible.size === 0) continue;
      const base = {
        bucket_start: new Date(hour * 1000).toISOString(),
        provider: combo.provider,
        model: combo.model,
        account: combo.teamAlias !== 'None' ? combo.teamAlias : combo.team !== 'None' ? combo.team : '',
        api_key: combo.keyAlias !== 'None' ? combo.keyAlias : combo.hashedKey,
        user_id: combo.user,
      };
      const key = JSON.stringify(base);
      const existing = rows.get(key);
      if (existing) {
        for (const metric of METRIC_KEYS) existing.book[metric] += entry[metric];
        existing.book.uncached += entry.uncached;
        for (const metric of entry.visible) existing.book.visible.add(metric);
      } else {
        rows.set(key, { base, book: { ...entry, visible: new Set(entry.visible) } });
      }
      if (entry.visible.has('spend')) {
        const day = new Date(Math.floor(hour / 86_400) * 86_400_000).toISOString();
        const spendKey = JSON.stringify([day, combo.provider, base.account, combo.model]);
        const current = spend.get(spendKey) ?? { day, provider: combo.provider, account: base.account, model: combo.model, micros: 0 };
        spend.set(spendKey, { ...current, micros: current.micros + entry.spend });
      }
    }
  });
  const expected: ExpectedHour[] = [...rows.values()]
    .map(({ base, book: entry }) => {
      const tokenVisible = entry.visible.has('input');
      return {
        ...base,
        input_tokens: tokenVisible ? entry.uncached : null,
        output_tokens: entry.visible.has('output') ? entry.output : null,
        cached_read_tokens: entry.visible.has('cacheRead') ? entry.cacheRead : null,
        cached_write_tokens: null,
        reasoning_tokens: entry.visible.has('reasoning') ? entry.reasoning : null,
        requests: entry.visible.has('requests') ? entry.requests : null,
      };
    })
    .sort(compareExpected);

  return {
    openMetrics,
    start: options.start,
    end: new Date(endSeconds * 1000),
    restarts: restarts.map((at) => new Date((startSeconds + at) * 1000)),
    expected,
    expectedSpend: [...spend.values()].sort((a, b) => a.day.localeCompare(b.day) || a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) || a.model.localeCompare(b.model)),
    seriesCount: state.reduce((count, series) => count + METRIC_KEYS.filter((key) => series[key].lines.length > 0).length, 0),
    sampleCount,
  };
}

export function compareExpected(a: { bucket_start: string; model: string; api_key: string; account: string }, b: typeof a): number {
  return a.bucket_start.localeCompare(b.bucket_start) || a.model.localeCompare(b.model) || a.api_key.localeCompare(b.api_key) || a.account.localeCompare(b.account);
}
