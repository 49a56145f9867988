import type { CostSource, MeasurementBasis } from '../../record/usage-record';
import type { Granularity } from '../../time/granularity';

/** What the worker, cost logic and dashboards may rely on, declared up front as data. */
export type UsageAdapterV1Capabilities = {
  /** Bucket widths the adapter can write; the first is the default. */
  readonly granularities: readonly Granularity[];
  /** Which cache counters the source reports; the others stay NULL. */
  readonly cacheTokens: 'none' | 'read' | 'read_write';
  /** Where cost_usd comes from; 'none' leaves cost to the worker's pricing. */
  readonly costSource: CostSource | 'none';
  readonly measurementBasis: MeasurementBasis;
  /** How far back the source can return data; null = no limit. */
  readonly maxBackfillDays: number | null;
  /**
   * true: collect() returns the buckets of the window it is given, and the
   * worker advances a watermark. false: collect() returns what the source holds
   * now (files, a config list) whatever the window, and no watermark is kept.
   */
  readonly windowed: boolean;
  /**
   * How far back each cycle re-collects by default, in hours, because the
   * provider revises recent buckets after the fact (OpenAI, Anthropic,
   * Copilot). The source's `settle` setting overrides it; without either the
   * worker's default applies.
   */
  readonly defaultSettleHours?: number;
  /**
   * 'eager' (the default): the worker loads every stored state value before
   * collect(). 'on-demand': only what the adapter asks for with
   * `context.state.load()`, for state that grows with the data (per file, per
   * hour) while a cycle touches a little of it.
   */
  readonly stateLoading?: 'eager' | 'on-demand';
  /**
   * Whether collect() may price requests with `context.pricer`. true (the
   * default): the worker loads its price registry before collect(). false: the
   * adapter leaves cost to the worker (or takes the provider's) and gets no
   * pricer; the worker loads the registry only when rows need a price, so a
   * cycle that finds nothing new never loads it.
   */
  readonly usesPricer?: boolean;
};
