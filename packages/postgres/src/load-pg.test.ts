import { describe, expect, it } from 'vitest';
import { loadPg } from './load-pg';

describe('loadPg', () => {
  it('returns the pg driver and leaves the global navigator as it found it', () => {
    const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    const pg = loadPg();
    expect(typeof pg.Pool).toBe('function');
    expect(typeof pg.types.getTypeParser).toBe('function');
    expect(Object.getOwnPropertyDescriptor(globalThis, 'navigator')).toEqual(before);
  });
});
