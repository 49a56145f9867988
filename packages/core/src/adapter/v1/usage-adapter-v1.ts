import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ProviderCostRecordInput } from '../../record/provider-cost-record';
import type { UsageAdapterV1Capabilities } from './usage-adapter-v1-capabilities';
import type { UsageAdapterV1CheckResult } from './usage-adapter-v1-check-result';
import type { UsageAdapterV1CollectResult } from './usage-adapter-v1-collect-result';
import type { UsageAdapterV1Context } from './usage-adapter-v1-context';
import type { UsageAdapterV1Window } from './usage-adapter-v1-window';
import type { QuotaReadingV1 } from './quota-reading-v1';

/**
 * Version 1 of the utt adapter contract. Fields are only ever added as
 * optional; anything else is a UsageAdapterV2 beside this one.
 *
 * An adapter never touches the database: it returns records for a window and
 * the worker writes them.
 */
export type UsageAdapterV1<TConfig = unknown> = {
  /** The contract version. The worker refuses versions it does not know. */
  readonly specificationVersion: 'v1';
  /** kebab-case, equal to the package suffix (`@utt/adapter-openai-usage` → `openai-usage`). */
  readonly id: string;
  /** Written to token_usage.source_system (`openai_api`, `litellm`, `manual`…). */
  readonly sourceSystem: string;
  /** A Standard Schema (zod 4 objects are one) for the source's `config` block. */
  readonly configSchema: StandardSchemaV1<unknown, TConfig>;
  readonly capabilities: UsageAdapterV1Capabilities;
  /** Validates credentials and permissions with one cheap call. */
  readonly check?: (context: UsageAdapterV1Context<TConfig>) => Promise<UsageAdapterV1CheckResult>;
  /** Records whose bucket_start lies in the window (for windowed adapters). */
  readonly collect: (window: UsageAdapterV1Window, context: UsageAdapterV1Context<TConfig>) => UsageAdapterV1CollectResult;
  /**
   * What the provider says it billed, per day, for the days the window
   * touches (stored in provider_cost for billed-vs-computed reconciliation).
   * Called after collect() in the same cycle; both are written together.
   */
  readonly collectProviderCosts?: (
    window: UsageAdapterV1Window,
    context: UsageAdapterV1Context<TConfig>,
  ) => Promise<readonly ProviderCostRecordInput[]>;
  /**
   * Optional capability (added to v1 without breaking it): how close each
   * account is to its limits, now. Returns one reading per account and window;
   * the worker writes them to the quota history in one transaction. It is
   * called by `utt run` and `utt quota`, so it must be cheap and must not spend
   * quota unless the user opted into probing; an adapter that polls a
   * rate-limited endpoint keeps its own gate in `context.state`.
   */
  readonly collectQuota?: (context: UsageAdapterV1Context<TConfig>) => Promise<readonly QuotaReadingV1[]>;
};
