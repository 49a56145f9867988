import { describe, expect, it } from 'vitest';
import { MissingSecretError } from '../errors/missing-secret-error';
import { requireSecret } from './read-secret';
import { redactSecrets } from './redact-secrets';

describe('requireSecret', () => {
  it('returns a set secret', () => {
    expect(requireSecret('sk-live-123', 'OPENAI_ADMIN_KEY')).toBe('sk-live-123');
  });

  it.each([undefined, '', '   '])('throws MissingSecretError naming the variable for %j', (value) => {
    let caught: unknown;
    try {
      requireSecret(value, 'OPENAI_ADMIN_KEY', 'the OpenAI usage API');
    } catch (error) {
      caught = error;
    }
    expect(MissingSecretError.isInstance(caught)).toBe(true);
    expect((caught as MissingSecretError).variable).toBe('OPENAI_ADMIN_KEY');
    expect((caught as Error).message).toBe('OPENAI_ADMIN_KEY is not set (the OpenAI usage API)');
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of each secret', () => {
    expect(redactSecrets('key sk-123456 and again sk-123456, token abcdef', ['sk-123456', 'abcdef'])).toBe(
      'key [redacted] and again [redacted], token [redacted]',
    );
  });

  it('leaves secrets shorter than 4 characters alone, so it does not shred the text', () => {
    expect(redactSecrets('a b c', ['a', ''])).toBe('a b c');
  });

  it('treats secrets literally, not as patterns', () => {
    expect(redactSecrets('x.*y and x.*y', ['x.*y'])).toBe('[redacted] and [redacted]');
  });
});
