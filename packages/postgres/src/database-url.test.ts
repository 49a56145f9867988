import { redactSecrets } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { databaseUrlSecrets, describeDatabaseUrl } from './database-url';

describe('describeDatabaseUrl', () => {
  it('keeps user, host, port and database, and drops the password and query', () => {
    expect(describeDatabaseUrl('postgres://utt:p%40ss-word@db.internal:6432/telemetry?sslmode=require&password=other')).toBe(
      'postgres://utt@db.internal:6432/telemetry',
    );
    expect(describeDatabaseUrl('not a url')).toBe('(a URL that could not be parsed)');
  });
});

describe('databaseUrlSecrets', () => {
  it('lists the URL and every spelling of every password in it', () => {
    const url = 'postgres://utt:p%40ss-word@db.internal/telemetry?sslpassword=key-pass';
    const message = `failed for ${url}: password p@ss-word / p%40ss-word rejected, key-pass too`;
    const redacted = redactSecrets(message, databaseUrlSecrets(url));
    expect(redacted).not.toMatch(/ss-word|key-pass/);
  });

  it('finds the password of a URL that does not parse', () => {
    expect(databaseUrlSecrets('postgres://utt:hunter22@[bad/db')).toContain('hunter22');
  });
});
