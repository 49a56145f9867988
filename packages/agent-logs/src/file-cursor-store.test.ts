import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCursorStore } from './file-cursor-store';
import { createMemoryState } from './memory-state';

const directory = `${sep}logs`;
const at = (name: string) => `${directory}${sep}${name}`;
const cursor = (size: number, mtimeMs: number) => ({ dev: 2049, ino: size * 7, size, mtimeMs, offset: size, lines: 3, head: '64:abc' });
const info = (size: number, mtimeMs: number) => ({ dev: 2049, ino: size * 7, size, mtimeMs });

async function storeWith(entries: Array<[string, ReturnType<typeof cursor>]>) {
  const state = createMemoryState();
  const written = await FileCursorStore.open(state, 'p/');
  for (const [name, value] of entries) written.set(at(name), value);
  written.commit();
  return FileCursorStore.open(state, 'p/');
}

describe('FileCursorStore.allUnchanged', () => {
  const names = ['a.log', 'b.log', 'c.log'];
  const paths = names.map(at);
  const stored = (): Array<[string, ReturnType<typeof cursor>]> => [
    ['a.log', cursor(100, 1_700_000_000_123.456)],
    ['b.log', cursor(200, 1_700_000_000_000)],
    ['c.log', cursor(300, 1_700_000_001_000.5)],
  ];
  const infos = () => [info(100, 1_700_000_000_123.456), info(200, 1_700_000_000_000), info(300, 1_700_000_001_000.5)];

  it('is true when every file has its cursor with the same identity, size and mtime, and there is no other cursor', async () => {
    const store = await storeWith(stored());
    expect(store.allUnchanged(directory, paths, infos())).toBe(true);
    for (const [index, path] of paths.entries()) expect(store.isUnchanged(path, infos()[index] as ReturnType<typeof info>)).toBe(true);
  });

  it('is false, as isUnchanged is for that file, when one file grew, moved in time, was replaced or is gone', async () => {
    const store = await storeWith(stored());
    const grown = infos();
    grown[1] = info(201, 1_700_000_000_000);
    expect(store.allUnchanged(directory, paths, grown)).toBe(false);
    expect(store.isUnchanged(paths[1] as string, grown[1] as ReturnType<typeof info>)).toBe(false);
    const touched = infos();
    touched[2] = info(300, 1_700_000_001_000.501);
    expect(store.allUnchanged(directory, paths, touched)).toBe(false);
    const replaced = infos();
    replaced[0] = { ...info(100, 1_700_000_000_123.456), ino: 1 };
    expect(store.allUnchanged(directory, paths, replaced)).toBe(false);
    expect(store.allUnchanged(directory, paths, [infos()[0], undefined, infos()[2]])).toBe(false);
  });

  it('is false for a new file, and for a cursor of a file no longer listed', async () => {
    const store = await storeWith(stored().slice(0, 2));
    expect(store.allUnchanged(directory, paths, infos())).toBe(false);
    expect(store.allUnchanged(directory, paths.slice(0, 1), infos().slice(0, 1))).toBe(false);
    expect((await storeWith([])).allUnchanged(directory, paths.slice(0, 1), infos().slice(0, 1))).toBe(false);
  });

  it('leaves names stored escaped (a tab, a newline, a backslash) to isUnchanged', async () => {
    const odd = ['x\ty.log', 'x\\z.log', 'y\nz.log'].sort();
    const store = await storeWith(odd.map((name, index) => [name, cursor(100 + index, 1_700_000_000_000)]));
    const oddInfos = odd.map((_, index) => info(100 + index, 1_700_000_000_000));
    expect(store.allUnchanged(directory, odd.map(at), oddInfos)).toBe(false);
    for (const [index, name] of odd.entries()) expect(store.isUnchanged(at(name), oddInfos[index] as ReturnType<typeof info>)).toBe(true);
  });

  it('is false for a directory whose cursors this cycle changed', async () => {
    const store = await storeWith(stored());
    store.set(at('a.log'), cursor(100, 1_700_000_000_123.456));
    expect(store.allUnchanged(directory, paths, infos())).toBe(false);
  });
});

describe('FileCursorStore cursors', () => {
  it('keeps the digest of the bytes before the offset with the head, and loads a cursor of an earlier version without one', async () => {
    const state = createMemoryState();
    const written = await FileCursorStore.open(state, 'p/');
    written.set(at('new.log'), { ...cursor(500, 1_700_000_000_000), tail: '64:tailDigest1', carry: { totals: [1, 2] } });
    written.set(at('plain.log'), { ...cursor(600, 1_700_000_000_000), tail: '64:tailDigest2' });
    written.commit();
    // An earlier version's line: the head alone, then the carry.
    state.set(`p/${sep}old`, `\nold.log\t2049\t7\t700\t1700000000000000\t700\t3\t64:abc\t{"totals":[3]}`);
    const store = await FileCursorStore.open(state, 'p/');
    expect(store.get(at('new.log'))).toEqual({ ...cursor(500, 1_700_000_000_000), tail: '64:tailDigest1', carry: { totals: [1, 2] } });
    expect(store.get(at('plain.log'))).toEqual({ ...cursor(600, 1_700_000_000_000), tail: '64:tailDigest2' });
    const old = store.get(`${sep}old${sep}old.log`);
    expect(old).toEqual({ dev: 2049, ino: 7, size: 700, mtimeMs: 1_700_000_000_000, offset: 700, lines: 3, head: '64:abc', carry: { totals: [3] } });
    expect(old && 'tail' in old).toBe(false);
  });
});
