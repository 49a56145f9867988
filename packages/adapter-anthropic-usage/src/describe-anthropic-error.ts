/** What the usage and cost reports need; named in every 401/403 so the operator knows what to fix. */
export const ANTHROPIC_KEY_REQUIREMENT =
  'an Admin API key (sk-ant-admin…, created in the Console by an organization member with the admin role; standard API keys cannot read usage_report or cost_report)';

/**
 * Turns an Anthropic error body (`{"type":"error","error":{"type","message"}}`)
 * into the message of the HTTP error. A 401/403 names the key it needs; core
 * redacts anything the request carried, so an echoed key never shows.
 */
export function describeAnthropicError(body: unknown, statusCode: number): string | undefined {
  const providerMessage = readMessage(body);
  if (statusCode === 401 || statusCode === 403) {
    const problem = statusCode === 401 ? 'the admin key was refused' : 'the admin key lacks a permission';
    return `${problem}: the Anthropic usage adapter needs ${ANTHROPIC_KEY_REQUIREMENT}${providerMessage ? ` (Anthropic said: ${providerMessage})` : ''}`;
  }
  return providerMessage;
}

function readMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string' && message.trim() !== '') return message;
  }
  return undefined;
}
