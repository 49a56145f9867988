/** What the Usage and Costs APIs need; named in every 401/403 so the operator knows what to fix. */
export const OPENAI_KEY_REQUIREMENT =
  'an organization Admin API key (Organization settings → Admin keys; project and user keys cannot call /organization endpoints) with read access to Usage and Costs';

/**
 * Turns an OpenAI error body into the message of the HTTP error. A 401/403
 * names the permission the key lacks; the provider's own text is kept after it
 * (core redacts anything the request carried, so an echoed key never shows).
 */
export function describeOpenaiError(body: unknown, statusCode: number): string | undefined {
  const providerMessage = readMessage(body);
  if (statusCode === 401 || statusCode === 403) {
    const problem = statusCode === 401 ? 'the admin key was refused' : 'the admin key lacks a permission';
    return `${problem}: the OpenAI usage adapter needs ${OPENAI_KEY_REQUIREMENT}${providerMessage ? ` (OpenAI said: ${providerMessage})` : ''}`;
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
