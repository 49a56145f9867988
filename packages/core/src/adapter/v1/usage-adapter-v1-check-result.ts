/** The answer of a credentials/capability check: one cheap call, no records. */
export type UsageAdapterV1CheckResult =
  | { readonly ok: true; readonly detail?: string }
  | { readonly ok: false; readonly reason: string };
