import type { HttpClient } from '../../http/http-client';
import type { Logger } from '../../logger';
import type { UsageAdapterV1State } from './usage-adapter-v1-state';
import type { UsageAdapterV1Pricer } from './usage-adapter-v1-pricer';

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
  /**
   * The folder relative paths in this source's config resolve against: the
   * worker passes its config file's folder, so a config means the same thing
   * from any working directory. Absent: the process's working directory.
   */
  readonly configDirectory?: string;
  /**
   * Durable state kept between cycles, written in the same transaction as the
   * records. Provided by the worker; absent where no store backs it.
   */
  readonly state?: UsageAdapterV1State;
  /**
   * The worker's prices, for adapters that see single requests and must price
   * each before summing it into a bucket. Absent when the worker prices rows.
   */
  readonly pricer?: UsageAdapterV1Pricer;
};
