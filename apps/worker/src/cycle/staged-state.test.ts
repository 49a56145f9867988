import { describe, expect, it } from 'vitest';
import { createStagedState } from './staged-state';

describe('createStagedState', () => {
  it('reads through staged changes and reports only what changed', () => {
    const { state, changes } = createStagedState(new Map<string, unknown>([['a', 1], ['b', 2]]));
    state.set('c', { offset: 3 });
    state.delete('a');
    state.set('b', 20);
    expect(state.get('a')).toBeUndefined();
    expect(state.get('b')).toBe(20);
    expect(state.keys()).toEqual(['b', 'c']);
    expect(changes()).toEqual({ set: new Map<string, unknown>([['c', { offset: 3 }], ['b', 20]]), deleted: ['a'] });
  });

  it('a key set again after delete is no longer deleted; deleting an unstored key stages nothing', () => {
    const { state, changes } = createStagedState(new Map([['a', 1]]));
    state.delete('a');
    state.set('a', 5);
    state.set('x', 1);
    state.delete('x');
    expect(changes()).toEqual({ set: new Map([['a', 5]]), deleted: [] });
    expect(() => state.set('y', undefined)).toThrow(/must be JSON/);
  });
});
