/** What a quota window's state is, as the source reports it (or as utt infers it from an error). */
export type QuotaStatusV1 = 'allowed' | 'warning' | 'rejected' | 'auth_required' | 'invalid_key' | 'unknown';

/** How a reading was obtained: a usage endpoint (no model call), a probe (a minimal model call), a local log, or headers of real traffic. */
export type QuotaObtainedViaV1 = 'endpoint' | 'probe' | 'log' | 'piggyback';

/**
 * One observation of one quota window of one account. Windows are named by
 * duration (`5h`, `7d`, `7d_<model>`, `month`, `requests_1m`…; see
 * `classifyQuotaWindow`), never by a provider's position (`primary`).
 *
 * `account` is a stable id (an email, an organisation id, a configured key
 * alias), never a token or a key.
 */
export type QuotaReadingV1 = {
  /** `anthropic`, `openai`, `xai`, `google`, `openrouter`, `deepseek`… */
  readonly provider: string;
  readonly account: string;
  /** The window's name, by duration; `account` for a reading about the account as a whole (an invalid key). */
  readonly window: string;
  /** The window's length in seconds, when known. */
  readonly windowSeconds?: number | null;
  /** Used share, 0–1, not clamped (over-quota reads above 1). null when unknown. */
  readonly usedRatio: number | null;
  /** The number as the source gave it, with its unit (`percent`, `fraction`, `requests`, `tokens`, `usd`, `cny`…). */
  readonly rawValue?: number | null;
  readonly rawUnit?: string | null;
  /** The limit and what remains, in rawUnit's terms (or requests/tokens), where the source says. */
  readonly limit?: number | null;
  readonly remaining?: number | null;
  /** When the window resets; null when no window is running or the source does not say. */
  readonly resetsAt?: Date | string | null;
  readonly status: QuotaStatusV1;
  readonly obtainedVia: QuotaObtainedViaV1;
  readonly observedAt: Date | string;
  /** A short human note (`extra usage`, `no window running`); never a secret. */
  readonly detail?: string | null;
};
