import { MissingSecretError } from '../errors/missing-secret-error';

/**
 * Returns a non-empty secret or throws an error that names where it should
 * have come from, never a value.
 */
export function requireSecret(value: string | undefined, name: string, purpose?: string): string {
  if (value === undefined || value.trim() === '') throw new MissingSecretError({ variable: name, purpose });
  return value;
}
