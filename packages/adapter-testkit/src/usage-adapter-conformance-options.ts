import type { UsageAdapterV1, UsageAdapterV1Window, UsageRecordInput } from '@utt/core';
import type { FakeServerHandler } from './start-fake-server';

/** How the kit reaches an HTTP adapter: a config pointing at a fake server, and that server's answers. */
export type UsageAdapterConformanceHttp = {
  /** A valid config whose base URL is the kit's fake server (`http://127.0.0.1:<port>`). */
  readonly configForBaseUrl: (baseUrl: string) => unknown;
  /** The fake provider: answers each request the adapter makes when nothing is being broken on purpose. */
  readonly serve: FakeServerHandler;
};

/**
 * A record the adapter must produce from the real provider response the test
 * serves (or the file it reads): its dimensions (and the labels it names) pick the produced record, and
 * every token, cost and basis field written here must match exactly. A field
 * left out is not compared, so state every token column the provider reports.
 */
export type ExpectedUsageRecord = Partial<Omit<UsageRecordInput, 'bucket_start'>> & {
  readonly bucket_start: string | Date;
  readonly model: string;
};

/**
 * One real response and the records it must become, worked out by hand from
 * the provider's documentation, not copied from the adapter's output. This is
 * where the provider's cache convention is stated: if its prompt count
 * includes cached tokens (OpenAI, Gemini, Acme), the expected input_tokens is
 * the prompt count minus the cached tokens.
 */
export type UsageAdapterConformanceExpected = {
  /** What was served or read, e.g. "Acme /v1/usage, 2026-10-01, two hours" (shown in failures). */
  readonly response: string;
  readonly records: readonly ExpectedUsageRecord[];
};

export type UsageAdapterConformanceOptions = {
  // `any`: UsageAdapterV1<TConfig> is invariant in TConfig, so a typed adapter is not a UsageAdapterV1<unknown>.
  readonly adapter: UsageAdapterV1<any>;
  /**
   * The package's entry module (`import * as entry from './index'`): checked to
   * default-export `adapter`, which is what the worker loads by package name.
   */
  readonly entry?: Readonly<Record<string, unknown>>;
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
  /**
   * Required when the adapter reports cache tokens (`capabilities.cacheTokens`
   * other than 'none'): the shape checks cannot tell a cache-inclusive prompt
   * count in input_tokens from a correct one, a stated expectation can.
   */
  readonly expected?: UsageAdapterConformanceExpected;
};
