import type { UsageStore } from '@utt/postgres';
import type { BudgetConfig } from '@utt/tracker';

/** A configured source, as the worker's config describes it (optional: without it, the status table is the list). */
export type DashboardSource = {
  readonly name: string;
  readonly sourceSystem: string;
  readonly enabled?: boolean;
  readonly paused?: boolean;
  /** Older than this since the last success is stale; default the dashboard's staleAfterMs. */
  readonly staleAfterMs?: number;
  /** The cache columns the adapter fills, for the data-quality check "cache columns 0 where the source reports none". */
  readonly cacheTokens?: 'none' | 'read' | 'read_write';
};

export type DashboardOptions = {
  /** An open store; the dashboard only reads it. */
  readonly store: UsageStore;
  /** The installation's reporting time zone (IANA), for days, months and timestamps on every page. Default UTC. */
  readonly timeZone?: string;
  /** Where the handler is mounted, e.g. `/utt`; links and the cookie path use it. Default '' (the root). */
  readonly basePath?: string;
  /**
   * When set, every request must carry it: `Authorization: Bearer …`, or a
   * browser's session cookie obtained once with `?token=…`. Required by
   * `serveDashboard` on any address but loopback.
   */
  readonly token?: string;
  /** Host names (Host header) answered besides localhost, 127.0.0.1, [::1] and *.localhost. */
  readonly allowedHosts?: readonly string[];
  /** Default staleness limit for sources (ms). Default one hour, like `worker.staleAfter`. */
  readonly staleAfterMs?: number;
  readonly sources?: readonly DashboardSource[];
  /** What `utt prices explain` says about a model without a price; shown on the Data quality page. */
  readonly explainPrice?: (provider: string, model: string) => string | Promise<string>;
  /**
   * Budgets shown on the Overview (and /api/v1/budgets): the config's
   * `budgets:`, as `utt budget` reads them. Day and month budgets only;
   * validated when the handler is created.
   */
  readonly budgets?: readonly BudgetConfig[];
  /** How the Quotas page judges readings: `quota.thresholds` and `quota.staleAfter` of the worker's config (defaults 0.8 / 0.95 and 20 minutes). */
  readonly quota?: DashboardQuotaOptions;
  /** The clock (tests). */
  readonly now?: () => Date;
};

export type DashboardQuotaOptions = {
  /** Used ratios at which a window is WARNING and CRITICAL. */
  readonly thresholds?: { readonly warning: number; readonly critical: number };
  /** A reading not confirmed for this long is stale (ms). */
  readonly staleAfterMs?: number;
};

export type ResolvedOptions = Required<Pick<DashboardOptions, 'store' | 'timeZone' | 'basePath' | 'allowedHosts' | 'staleAfterMs' | 'now'>> &
  Pick<DashboardOptions, 'token' | 'sources' | 'explainPrice'> & {
    readonly budgets: readonly BudgetConfig[];
    readonly quota: { readonly thresholds: { readonly warning: number; readonly critical: number }; readonly staleAfterMs: number };
  };
