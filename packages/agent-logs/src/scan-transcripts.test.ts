import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStagedState, type UsageAdapterV1State } from '@utt/core';
import { createMemoryState } from './memory-state';
import { scanTranscripts } from './scan-transcripts';
import { logLineFormat } from './__fixtures__/log-line-format';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-scan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const format = logLineFormat;

const scan = (state: UsageAdapterV1State = createMemoryState()) => scanTranscripts({ roots: [dir], format, state, namespace: 'test/box' });

describe('scanTranscripts', () => {
  it('finds files added to a directory it has already listed, and reports malformed lines with file and line', async () => {
    mkdirSync(path.join(dir, 'a'));
    writeFileSync(path.join(dir, 'a', 'one.log'), 'e1 10 5\n');
    const state = createMemoryState();
    const first = await scan(state);
    expect(first.cells.map((cell) => cell.tokens[0])).toEqual([5]);

    writeFileSync(path.join(dir, 'a', 'two.log'), 'e2 10 7\n!oops\n');
    // Even when the directory's mtime looks old, a listing taken right after a change is not trusted.
    utimesSync(path.join(dir, 'a'), new Date('2026-01-01'), new Date('2026-01-01'));
    const second = await scan(state);
    expect(second.cells.map((cell) => cell.tokens)).toEqual([[12, null, null, null, null, null, 2]]);
    expect(second.malformedLines).toEqual([{ file: path.join(dir, 'a', 'two.log'), line: 2, reason: 'bad line' }]);
    expect(second.statistics).toMatchObject({ files: 2, filesRead: 1, malformed: 1 });

    appendFileSync(path.join(dir, 'a', 'one.log'), 'e1 10 5\ne3 11 1\n');
    const third = await scan(state);
    // e1 again is a copy: hour 10 is unchanged and not returned; hour 11 is new.
    expect(third.cells.map((cell) => [cell.bucketStart.toISOString(), cell.tokens[0]])).toEqual([['2026-03-01T11:00:00.000Z', 1]]);
    expect(third.statistics.duplicates).toBe(1);
  });

  it('forgets the cursor of a deleted file', async () => {
    writeFileSync(path.join(dir, 'gone.log'), 'e1 10 5\n');
    const state = createMemoryState();
    await scan(state);
    expect(state.keys('test/box/cursors/')).toEqual([`test/box/cursors/${dir}`]);
    rmSync(path.join(dir, 'gone.log'));
    await scan(state);
    expect(state.keys('test/box/cursors/')).toEqual([]);
  });

  it('forgets the cursors of a root that is gone even when no listing changed', async () => {
    const kept = path.join(dir, 'kept');
    const gone = path.join(dir, 'gone');
    mkdirSync(kept);
    mkdirSync(gone);
    writeFileSync(path.join(kept, 'a.log'), 'e1 10 5\n');
    writeFileSync(path.join(gone, 'b.log'), 'e2 10 7\n');
    // Old enough that their listings are trusted on the next cycle.
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(kept, past, past);
    utimesSync(gone, past, past);
    const state = createMemoryState();
    const both = () => scanTranscripts({ roots: [kept, gone], format, state, namespace: 'test/box' });
    await both();
    expect(state.keys('test/box/cursors/')).toHaveLength(2);
    const idle = await both();
    expect(idle.statistics.filesRead).toBe(0);
    rmSync(gone, { recursive: true });
    const after = await both();
    expect(after.statistics.missingRoots).toEqual([gone]);
    expect(state.keys('test/box/cursors/')).toEqual([`test/box/cursors/${kept}`]);
    expect(state.get(`test/box/cursors/${kept}`)).toMatch(/^\na\.log\t\d+\t\d+\t8\t[\d.]+\t8\t1\t8:[\w-]{11}$/);
  });

  it('forgets the listing and cursors of a subdirectory removed with its files', async () => {
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'a.log'), 'e1 10 5\n');
    writeFileSync(path.join(dir, 'b.log'), 'e2 10 7\n');
    const state = createMemoryState();
    await scan(state);
    expect(state.keys('test/box/dirs/')).toEqual([`test/box/dirs/${dir}`, `test/box/dirs/${sub}`]);
    expect(state.keys('test/box/cursors/')).toEqual([`test/box/cursors/${dir}`, `test/box/cursors/${sub}`]);
    rmSync(sub, { recursive: true });
    const after = await scan(state);
    expect(after.statistics).toMatchObject({ files: 1, filesRead: 0 });
    expect(state.keys('test/box/dirs/')).toEqual([`test/box/dirs/${dir}`]);
    expect(state.keys('test/box/cursors/')).toEqual([`test/box/cursors/${dir}`]);
  });

  it('keeps the cursor of every file apart, whatever its name holds', async () => {
    const names = ['constructor.log', '__proto__.log', 'a\tb.log', 'a\nb.log', 'a\\tb.log', 'b.log'];
    for (const name of names) writeFileSync(path.join(dir, name), `${name.length} 10 1\n`);
    const state = createMemoryState();
    expect((await scan(state)).statistics.filesRead).toBe(names.length);
    expect((await scan(state)).statistics.filesRead).toBe(0);
    appendFileSync(path.join(dir, 'a\tb.log'), 'x 11 1\n');
    rmSync(path.join(dir, 'a\nb.log'));
    const after = await scan(state);
    expect(after.statistics).toMatchObject({ files: names.length - 1, filesRead: 1, events: 1 });
    expect((state.get(`test/box/cursors/${dir}`) as string).split('\n').filter(Boolean)).toHaveLength(names.length - 1);
    expect((await scan(state)).statistics.filesRead).toBe(0);
  });

  it('drops cursors kept one key per file by an earlier version, and counts nothing twice when it reads the files again', async () => {
    writeFileSync(path.join(dir, 'a.log'), 'e1 10 5\ne2 11 3\n');
    const state = createMemoryState();
    await scan(state);
    // What the earlier version left: the roots as a bare array and a cursor per file.
    state.set('test/box/roots', [dir]);
    state.set('test/box/dirs', { [dir]: [0, 0, ['a.log'], []] });
    state.set(`test/box/file/${path.join(dir, 'a.log')}`, { dev: 1, ino: 2, size: 16, mtimeMs: 0, offset: 16, lines: 2, head: '' });
    state.delete(`test/box/cursors/${dir}`);
    const again = await scan(state);
    expect(again.statistics).toMatchObject({ filesRead: 1, events: 2, duplicates: 2 });
    expect(again.cells).toEqual([]);
    expect(state.keys('test/box/file/')).toEqual([]);
    expect(state.get('test/box/dirs')).toBeUndefined();
    expect(state.get('test/box/roots')).toEqual({ roots: [dir] });
  });
});

describe('scanTranscripts over an on-demand state', () => {
  /** Stored JSON texts between cycles, and a staged state over them per cycle, the way the worker runs a source. */
  const onDemandStore = () => {
    const rows = new Map<string, string>();
    let loadedKeys: string[] = [];
    const cycle = async () => {
      const staged = createStagedState(async (selection) => {
        const values = new Map<string, unknown>();
        for (const [key, text] of rows) {
          if (selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))) values.set(key, JSON.parse(text));
        }
        loadedKeys.push(...values.keys());
        return values;
      });
      loadedKeys = [];
      const result = await scan(staged.state);
      const { set, deleted } = staged.changes();
      for (const key of deleted) rows.delete(key);
      for (const [key, value] of set) rows.set(key, JSON.stringify(value));
      return { result, changed: set.size + deleted.length, loadedKeys };
    };
    return { rows, cycle };
  };

  it('totals what a full in-memory scan totals, and an incremental cycle loads only the hours it touches', async () => {
    const old = new Date(Date.now() - 3_600_000);
    for (let file = 0; file < 6; file += 1) {
      mkdirSync(path.join(dir, `p${file}`));
      writeFileSync(path.join(dir, `p${file}`, 's.log'), Array.from({ length: 10 }, (_, line) => `e${file}-${line} ${String(line).padStart(2, '0')} ${line + 1}`).join('\n') + '\n');
      utimesSync(path.join(dir, `p${file}`), old, old);
    }
    utimesSync(dir, old, old);
    const store = onDemandStore();
    const first = await store.cycle();
    const full = await scan(createMemoryState());
    expect(first.result.cells).toEqual(full.cells);
    expect(first.result.cells.reduce((sum, cell) => sum + (cell.tokens[0] ?? 0), 0)).toBe(6 * 55);
    const idle = await store.cycle();
    expect(idle.changed).toBe(0);
    expect(idle.loadedKeys.filter((key) => key.includes('/hour/'))).toEqual([]);
    // A copy of e0-3 (hour 03) in a later line of another file, and a new response in hour 05.
    appendFileSync(path.join(dir, 'p1', 's.log'), 'e0-3 03 4\nnew 05 100\n');
    const next = await store.cycle();
    expect(next.result.cells.map((cell) => [cell.bucketStart.getUTCHours(), cell.tokens[0]])).toEqual([[5, 6 * 6 + 100]]);
    expect(next.result.statistics).toMatchObject({ filesRead: 1, events: 2, duplicates: 1 });
    expect(next.loadedKeys.filter((key) => key.includes('/hour/')).sort()).toEqual([`test/box/hour/${Date.parse('2026-03-01T03:00:00Z') / 3_600_000}`, `test/box/hour/${Date.parse('2026-03-01T05:00:00Z') / 3_600_000}`].sort());
  });
});
