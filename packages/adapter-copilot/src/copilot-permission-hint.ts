import type { CopilotScope } from './copilot-config';

/** What an endpoint call is for, so a 401/403/404 can name the permission it needs. */
export type CopilotEndpointKind = 'usage_metrics' | 'billing';

/**
 * The permission a refused call needs, per GitHub's REST docs (API version
 * 2026-03-10). Named, never guessed from the token: the token is never read
 * beyond being sent.
 */
export function permissionHint(kind: CopilotEndpointKind, scope: CopilotScope, status: number | undefined): string {
  const account = `${scope.kind} "${scope.slug}"`;
  if (status === 404) {
    return kind === 'usage_metrics'
      ? `GitHub answered 404 for the Copilot usage-metrics reports of ${account}: check the ${scope.kind === 'organization' ? 'org' : 'enterprise'} name, that the "Copilot usage metrics" policy is enabled, and that the token can see it (GitHub answers 404 instead of 403 to tokens without access)`
      : `GitHub answered 404 for the billing usage of ${account}: check the name, that it uses the enhanced billing platform, and that the token can see it (GitHub answers 404 instead of 403 to tokens without access)`;
  }
  if (kind === 'usage_metrics') {
    return scope.kind === 'organization'
      ? `the token was refused for the Copilot usage-metrics reports of ${account}: a fine-grained token needs the organization permission "Copilot metrics" (read) ("View Organization Copilot Metrics"); a classic token needs read:org or manage_billing:copilot; the "Copilot usage metrics" policy must be enabled`
      : `the token was refused for the Copilot usage-metrics reports of ${account}: a fine-grained token needs the enterprise permission "Enterprise Copilot metrics" (read); a classic token needs manage_billing:copilot or read:enterprise; the "Copilot usage metrics" policy must be enabled`;
  }
  return scope.kind === 'organization'
    ? `the token was refused for the billing usage (premium requests / AI credits) of ${account}: a fine-grained token needs the organization permission "Administration" (read); a classic token must belong to an org owner or billing manager (manage_billing:copilot or admin:org)`
    : `the token was refused for the billing usage (premium requests / AI credits) of ${account}: it must belong to an enterprise owner or billing manager (classic scope manage_billing:enterprise or manage_billing:copilot)`;
}
