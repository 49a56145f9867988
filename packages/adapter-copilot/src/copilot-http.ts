import {
  AdapterHttpError,
  endpointOf,
  formatIssues,
  type HttpClient,
  type QueryValue,
  requireSecret,
  ResponseShapeError,
  type z,
} from '@utt/core';
import type { CopilotConfig, CopilotScope } from './copilot-config';
import { type CopilotEndpointKind, permissionHint } from './copilot-permission-hint';

export type GitHubCall<TSchema extends z.ZodType> = {
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue | undefined>>;
  readonly schema: TSchema;
  readonly kind: CopilotEndpointKind;
};

/**
 * One GitHub REST call with the token in the Authorization header only.
 * Returns null for 204 (GitHub's "no report for that day"); a 401/403/404
 * becomes an error that names the permission the token lacks.
 */
export async function getGitHubJson<TSchema extends z.ZodType>(
  http: HttpClient,
  config: CopilotConfig,
  scope: CopilotScope,
  call: GitHubCall<TSchema>,
): Promise<z.output<TSchema> | null> {
  const url = `${config.baseUrl}${call.path}`;
  let response;
  try {
    response = await http.requestText({
      url,
      query: call.query,
      headers: {
        authorization: `Bearer ${requireSecret(config.token, 'token', 'a GitHub token for the Copilot endpoints')}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': config.apiVersion,
      },
    });
  } catch (error) {
    throw withPermissionHint(error, call.kind, scope);
  }
  if (response.status === 204 || response.text.trim() === '') return null;
  const endpoint = endpointOf(url);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch (error) {
    throw new ResponseShapeError({ endpoint, issues: ['body is not valid JSON'], cause: error });
  }
  const result = call.schema.safeParse(body);
  if (!result.success) throw new ResponseShapeError({ endpoint, issues: formatIssues(result.error.issues) });
  return result.data;
}

/**
 * Fetches one signed report link. The link carries its own credential in the
 * query string and usually points at another host (copilot-reports.github.com),
 * so the GitHub token is never sent with it, and `label` (never the URL) names
 * it in errors. Core's client keeps the query string out of its own errors.
 */
export async function downloadSignedLink(http: HttpClient, link: string, label: string, allowHttp: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new ResponseShapeError({ endpoint: label, issues: ['download link is not a URL'] });
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new ResponseShapeError({ endpoint: label, issues: [`download link must use https (got ${url.protocol.replace(/:$/, '')})`] });
  }
  if (url.username || url.password) {
    throw new ResponseShapeError({ endpoint: label, issues: ['download link must not carry user credentials'] });
  }
  try {
    const response = await http.requestText({ url: url.href, headers: { accept: 'application/x-ndjson, application/json;q=0.9, */*;q=0.8' } });
    return response.text;
  } catch (error) {
    if (AdapterHttpError.isInstance(error) && error.failure === 'status' && !error.isRetryable) {
      throw new AdapterHttpError({
        message: `${label}: ${error.message} (signed report links expire within minutes; the adapter fetches them right after asking for them, so a refusal here usually means the clock or a proxy is off)`,
        endpoint: error.endpoint,
        failure: error.failure,
        statusCode: error.statusCode,
        retryAfterMs: error.retryAfterMs,
        attempts: error.attempts,
        cause: error,
      });
    }
    throw error;
  }
}

function withPermissionHint(error: unknown, kind: CopilotEndpointKind, scope: CopilotScope): unknown {
  if (!AdapterHttpError.isInstance(error) || error.failure !== 'status') return error;
  const status = error.statusCode;
  if (status !== 401 && status !== 403 && status !== 404) return error;
  // GitHub's secondary rate limit is a 403 with Retry-After: not a permission problem.
  const hint =
    status === 403 && error.retryAfterMs !== undefined
      ? `GitHub's secondary rate limit (403 with Retry-After): run the source less often or with a smaller backfill`
      : permissionHint(kind, scope, status);
  return new AdapterHttpError({
    message: `${error.message} — ${hint}`,
    endpoint: error.endpoint,
    failure: error.failure,
    statusCode: status,
    retryAfterMs: error.retryAfterMs,
    attempts: error.attempts,
    cause: error,
  });
}
