import { InvalidRecordError, toUsageRows } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { checkEchoedSecrets } from './check-echoed-secrets';

const SECRET = 'sk-live-0123456789';

const rows = (models: string[], labels: Array<Record<string, string>> = []) =>
  toUsageRows(
    models.map((model, index) => ({
      granularity: 'hour',
      bucket_start: new Date('2026-10-01T10:00:00Z'),
      provider: 'anthropic',
      model,
      labels: labels[index] ?? { session: 's1' },
      measurement_basis: 'exact',
    })),
    { sourceSystem: 'test', defaultInstance: 'laptop' },
  );

function issues(run: () => void): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(InvalidRecordError.isInstance(error)).toBe(true);
    expect((error as Error).message).not.toContain(SECRET);
    return (error as InvalidRecordError).issues;
  }
  return [];
}

describe('checkEchoedSecrets', () => {
  it('passes rows that hold no secret, however often their texts repeat', () => {
    expect(issues(() => checkEchoedSecrets('logs', rows(Array.from({ length: 1_000 }, (_, index) => `model-${index % 3}`)), [], new Set([SECRET, 'abc'])))).toEqual([]);
  });

  it('names every record and field that holds a secret, a text seen again as well as the first time', () => {
    const found = issues(() =>
      checkEchoedSecrets(
        'logs',
        rows(['ok', `x${SECRET}`, 'ok', `x${SECRET}`, 'ok'], [{}, {}, { [`k-${SECRET}`]: 'v' }, {}, { session: SECRET }]),
        [],
        new Set([SECRET, 'abc']),
      ),
    );
    const reason = 'holds the value of a configured secret (the provider echoed a credential); nothing was written';
    expect(found).toEqual([`record 1: model: ${reason}`, `record 2: labels: ${reason}`, `record 3: model: ${reason}`, `record 4: labels: ${reason}`]);
  });

  it('ignores secrets shorter than four characters, and does nothing without secrets', () => {
    expect(issues(() => checkEchoedSecrets('logs', rows(['abc', 'ok']), [], new Set(['abc'])))).toEqual([]);
    expect(issues(() => checkEchoedSecrets('logs', rows([SECRET]), [], new Set()))).toEqual([]);
  });
});
