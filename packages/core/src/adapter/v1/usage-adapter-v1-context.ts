import type { HttpClient } from '../../http/http-client';
import type { Logger } from '../../logger';

/**
 * Everything an adapter touches outside itself. Tests build one by hand; no
 * adapter reads globals (process.env, Date.now, fetch) directly.
 */
export type UsageAdapterV1Context<TConfig> = {
  /** The source's config, validated by the adapter's configSchema. */
  readonly config: TConfig;
  /** The deadline/retry HTTP client, bound to the worker's settings and `signal`. */
  readonly http: HttpClient;
  /** Raw fetch, for the rare call the client does not fit. Honour `signal`. */
  readonly fetch: typeof globalThis.fetch;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Aborted when the worker shuts down or the source's time is up. */
  readonly signal: AbortSignal;
  readonly now: () => Date;
  /** The configured name of this source (several sources may share one adapter). */
  readonly sourceName: string;
};
