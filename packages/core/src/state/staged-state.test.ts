import { describe, expect, it } from 'vitest';
import { StateNotLoadedError } from '../errors/state-not-loaded-error';
import type { UsageAdapterV1StateSelection } from '../adapter/v1/usage-adapter-v1-state-selection';
import { createStagedState } from './staged-state';
import { StateJsonText } from './state-json-text';

describe('createStagedState over stored values', () => {
  it('reads through staged changes and reports only what changed', () => {
    const { state, changes } = createStagedState(new Map<string, unknown>([['a', 1], ['b', 2]]));
    state.set('c', { offset: 3 });
    state.delete('a');
    state.set('b', 20);
    expect(state.get('a')).toBeUndefined();
    expect(state.get('b')).toBe(20);
    expect(state.get('never')).toBeUndefined();
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

describe('createStagedState: values staged as JSON text', () => {
  it('reads a value staged as text (or UTF-8 bytes) back as the value, and hands the text over as it is', () => {
    const { state, changes } = createStagedState(new Map<string, unknown>([['a', 1]]));
    const text = '{"c":[["[\\"m\\",{\\"p\\":\\"é\\"}]",1]],"e":"x"}';
    state.setJson?.('hour/1', text);
    state.setJson?.('hour/2', Buffer.from(text));
    state.delete('a');
    state.setJson?.('a', '[1,2]');
    expect(state.get('hour/1')).toEqual({ c: [['["m",{"p":"é"}]', 1]], e: 'x' });
    expect(state.get('hour/2')).toEqual(state.get('hour/1'));
    expect(state.get('a')).toEqual([1, 2]);
    expect(state.keys()).toEqual(['a', 'hour/1', 'hour/2']);
    const { set, deleted } = changes();
    expect(deleted).toEqual([]);
    const staged = set.get('hour/1');
    expect(StateJsonText.isInstance(staged) && staged.json).toBe(text);
    // Anything that serialises staged values without knowing the text writes the same JSON.
    expect(JSON.stringify(Object.fromEntries(set))).toBe(`{"hour/1":${text},"hour/2":${text},"a":[1,2]}`);
    state.set('hour/1', 5);
    expect(state.get('hour/1')).toBe(5);
    expect(() => state.setJson?.('x', 5 as unknown as string)).toThrow(/must be a string or UTF-8 bytes/);
    expect(StateJsonText.isInstance({ json: '1' })).toBe(false);
  });
});

describe('createStagedState over a loader (on-demand)', () => {
  const stored = new Map<string, unknown>([
    ['file/a', { offset: 1 }],
    ['file/b', { offset: 2 }],
    ['hour/1', 'x'],
    ['hour/2', 'y'],
    ['meta', { v: 1 }],
  ]);
  const loaderOver = (values: ReadonlyMap<string, unknown>) => {
    const calls: UsageAdapterV1StateSelection[] = [];
    const load = async (selection: UsageAdapterV1StateSelection) => {
      calls.push(selection);
      const out = new Map<string, unknown>();
      for (const [key, value] of values) {
        if (selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))) out.set(key, value);
      }
      return out;
    };
    return { load, calls };
  };

  it('refuses to answer for what was not loaded, and answers for what was', async () => {
    const { load, calls } = loaderOver(stored);
    const { state } = createStagedState(load);
    expect(() => state.get('meta')).toThrow(StateNotLoadedError);
    expect(() => state.get('meta')).toThrow(/state key "meta" was read before it was loaded/);
    expect(() => state.keys('file/')).toThrow(/under "file\/"/);
    await state.load?.({ keys: ['meta', 'missing'], prefixes: ['file/'] });
    expect(state.get('meta')).toEqual({ v: 1 });
    expect(state.get('missing')).toBeUndefined();
    expect(state.get('file/a')).toEqual({ offset: 1 });
    expect(state.get('file/zzz')).toBeUndefined();
    expect(state.keys('file/')).toEqual(['file/a', 'file/b']);
    expect(() => state.get('hour/1')).toThrow(StateNotLoadedError);
    expect(() => state.keys()).toThrow(StateNotLoadedError);
    // What is loaded, staged or under a loaded prefix is not asked for again.
    state.set('hour/9', 'new');
    await state.load?.({ keys: ['meta', 'missing', 'file/a', 'hour/9', 'hour/2'], prefixes: ['file/', 'file/x'] });
    expect(calls).toEqual([{ keys: ['meta', 'missing'], prefixes: ['file/'] }, { keys: ['hour/2'], prefixes: [] }]);
    expect(state.get('hour/2')).toBe('y');
  });

  it('stages the deletion of a key it never loaded, and not of one it knows is absent', async () => {
    const { load } = loaderOver(stored);
    const { state, changes } = createStagedState(load);
    await state.load?.({ keys: ['missing'] });
    state.delete('hour/1');
    state.delete('missing');
    expect(state.get('hour/1')).toBeUndefined();
    expect(changes().deleted).toEqual(['hour/1']);
  });

  it('lists staged keys beside loaded ones, and a staged value wins over a stored one loaded later', async () => {
    const { load } = loaderOver(stored);
    const { state } = createStagedState(load);
    state.set('file/a', { offset: 10 });
    state.set('file/c', { offset: 3 });
    await state.load?.({ prefixes: ['file/'] });
    state.delete('file/b');
    expect(state.get('file/a')).toEqual({ offset: 10 });
    expect(state.keys('file/')).toEqual(['file/a', 'file/c']);
  });
});
