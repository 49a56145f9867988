const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of the given secret values in a text. Used on any
 * message that leaves the worker (logs, the status table) as a last line of
 * defence: adapters already keep secrets out of their errors.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    result = result.split(secret).join(REDACTED);
  }
  return result;
}
