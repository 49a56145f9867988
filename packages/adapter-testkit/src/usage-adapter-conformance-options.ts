import type { UsageAdapterV1, UsageAdapterV1Window } from '@utt/core';
import type { FakeServerHandler } from './start-fake-server';

/** How the kit reaches an HTTP adapter: a config pointing at a fake server, and that server's answers. */
export type UsageAdapterConformanceHttp = {
  /** A valid config whose base URL is the kit's fake server (`http://127.0.0.1:<port>`). */
  readonly configForBaseUrl: (baseUrl: string) => unknown;
  /** The fake provider: answers each request the adapter makes when nothing is being broken on purpose. */
  readonly serve: FakeServerHandler;
};

export type UsageAdapterConformanceOptions = {
  // `any`: UsageAdapterV1<TConfig> is invariant in TConfig, so a typed adapter is not a UsageAdapterV1<unknown>.
  readonly adapter: UsageAdapterV1<any>;
  /** A valid config, as a user would write it (it is validated by the adapter's configSchema). */
  readonly config: unknown;
  readonly env?: Readonly<Record<string, string>>;
  /** The window every collect() covers; it should produce at least one record. */
  readonly window: UsageAdapterV1Window;
  /** Values planted in `env` or `config` that must never appear in records, logs or errors. */
  readonly canarySecrets?: readonly string[];
  /** What `context.now()` returns. Default: `window.end`. */
  readonly now?: Date;
  /** `context.sourceName`. Default `'conformance'`. */
  readonly sourceName?: string;
  /**
   * A quota-only source (it implements `collectQuota` and writes no usage):
   * collect() must then return no records, instead of at least one.
   */
  readonly quotaOnly?: boolean;
  /** Given for adapters that call HTTP APIs: enables the retry, deadline and failing-credentials checks. */
  readonly http?: UsageAdapterConformanceHttp;
};
