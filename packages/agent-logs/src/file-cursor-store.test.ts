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
