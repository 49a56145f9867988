import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStagedState } from '@utt/core';
import { scanTranscripts } from './scan-transcripts';
import type { TranscriptFormat } from './transcript-format';
import { logLineFormat } from './__fixtures__/log-line-format';
import { TranscriptWatch } from './transcript-watch';

let dir: string;
let watch: TranscriptWatch;
let clock: number;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-watch-'));
  clock = 0;
  watch = new TranscriptWatch({ clock: () => clock, fullPassEveryMs: 60_000 });
});
afterEach(() => {
  watch.close();
  rmSync(dir, { recursive: true, force: true });
});

const format = logLineFormat;

/**
 * Stored JSON texts between cycles and a staged state over them per cycle,
 * as the worker keeps a source's state; `commit: false` drops a cycle's
 * changes, as a rolled-back transaction does.
 */
function createStore() {
  const rows = new Map<string, string>();
  return {
    rows,
    async cycle(options: { commit?: boolean; watch?: TranscriptWatch } = {}) {
      const selections: string[] = [];
      const staged = createStagedState(async (selection) => {
        selections.push(...(selection.prefixes ?? []));
        const values = new Map<string, unknown>();
        for (const [key, text] of rows) {
          if (selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))) values.set(key, JSON.parse(text));
        }
        return values;
      });
      const result = await scanTranscripts({ roots: [dir], format, state: staged.state, namespace: 'test/box', watch: 'watch' in options ? options.watch : watch });
      const { set, deleted } = staged.changes();
      if (options.commit !== false) {
        for (const key of deleted) rows.delete(key);
        for (const [key, value] of set) rows.set(key, JSON.stringify(value));
      }
      const written = [...set.keys(), ...deleted].sort();
      return { ...result, selections, written, total: result.cells.reduce((sum, cell) => sum + (cell.tokens[0] ?? 0), 0) };
    },
  };
}

/** Three projects of two sessions each, one response (10 tokens) per session. */
function writeProjects(): void {
  for (const project of ['p1', 'p2', 'p3']) {
    mkdirSync(path.join(dir, project));
    for (const session of ['a', 'b']) writeFileSync(path.join(dir, project, `${session}.log`), `${project}${session} 10 10\n`);
  }
}

describe('scanTranscripts with a TranscriptWatch', () => {
  it('stats only the files something happened to, and reads what was appended just before the cycle', async () => {
    writeProjects();
    const store = createStore();
    const first = await store.cycle();
    expect(first.statistics).toMatchObject({ files: 6, filesStatted: 6, filesRead: 6 });
    expect(watch.size).toBe(4);

    const idle = await store.cycle();
    expect(idle.statistics).toMatchObject({ files: 6, filesStatted: 0, filesRead: 0 });
    // Discovery started from the listings the watch kept: the stored ones were not even loaded.
    expect(idle.selections).toEqual(['test/box/cursors/']);

    appendFileSync(path.join(dir, 'p2', 'b.log'), 'n1 11 5\n');
    const next = await store.cycle();
    expect(next.statistics).toMatchObject({ files: 6, filesStatted: 1, filesRead: 1, events: 1 });
    expect(next.cells.map((cell) => [cell.bucketStart.getUTCHours(), cell.tokens[0]])).toEqual([[11, 5]]);
  });

  it('lists again only the directories whose entries changed, from the listings it keeps', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    writeFileSync(path.join(dir, 'p2', 'c.log'), 'p2c 12 7\n');
    rmSync(path.join(dir, 'p3', 'a.log'));
    const next = await store.cycle();
    expect(next.statistics).toMatchObject({ files: 6, filesStatted: 1, filesRead: 1 });
    expect(next.total).toBe(7);
    expect(next.selections).toEqual(['test/box/cursors/']);
    // p2 and p3 listed again and their cursors rewritten (p3's without the deleted file); p1 and the root untouched.
    expect(next.written.filter((key) => !key.includes('/hour/') && !key.includes('/ix/') && !key.endsWith('/meta'))).toEqual(
      ['cursors/p2', 'cursors/p3', 'dirs/p2', 'dirs/p3'].map((key) => `test/box/${key.replace('/', `/${dir}/`)}`),
    );
    expect(JSON.parse(store.rows.get(`test/box/cursors/${dir}/p3`) as string)).not.toContain('a.log');
    // What the partial discovery found is what a discovery from the stored listings finds.
    const fresh = createStore();
    for (const [key, value] of store.rows) fresh.rows.set(key, value);
    const unwatched = await fresh.cycle({ watch: undefined });
    expect(unwatched.statistics).toMatchObject({ files: 6, filesRead: 0 });
  });

  it('finds a new session file in a new project directory, and a file renamed into place', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    mkdirSync(path.join(dir, 'p4'));
    writeFileSync(path.join(dir, 'p4', 'c.log'), 'p4c 12 7\n');
    const created = await store.cycle();
    expect(created.statistics).toMatchObject({ files: 7, filesRead: 1 });
    expect(created.total).toBe(7);

    // A file written next to its place and renamed over it (a new inode at the same path).
    writeFileSync(path.join(dir, 'p4', 'c.tmp'), 'p4c 12 7\np4d 12 3\n');
    renameSync(path.join(dir, 'p4', 'c.tmp'), path.join(dir, 'p4', 'c.log'));
    const replaced = await store.cycle();
    expect(replaced.statistics).toMatchObject({ files: 7, filesRead: 1, filesReset: 1 });
    expect(replaced.total).toBe(10);

    // Then appends to the new directory's file are seen through its own watch.
    appendFileSync(path.join(dir, 'p4', 'c.log'), 'p4e 12 1\n');
    const appended = await store.cycle();
    expect(appended.statistics).toMatchObject({ filesStatted: 1, filesRead: 1 });
    expect(appended.total).toBe(11);
  });

  it('sees a file truncated and rewritten between cycles', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    truncateSync(path.join(dir, 'p1', 'a.log'), 0);
    appendFileSync(path.join(dir, 'p1', 'a.log'), 'other 13 4\n');
    const after = await store.cycle();
    expect(after.statistics).toMatchObject({ filesStatted: 1, filesRead: 1, filesReset: 1 });
    expect(after.cells.map((cell) => [cell.bucketStart.getUTCHours(), cell.tokens[0]])).toEqual([[13, 4]]);
  });

  it('stats a directory again when its cursors are not the ones it left: a cycle whose changes were rolled back', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    appendFileSync(path.join(dir, 'p3', 'a.log'), 'n1 11 5\n');
    // The append is read, but the transaction that would have kept its cursor is rolled back...
    const lost = await store.cycle({ commit: false });
    expect(lost.statistics).toMatchObject({ filesRead: 1 });
    // ...so the next cycle, with no new event, must still read it from the stored cursor.
    const again = await store.cycle();
    expect(again.statistics).toMatchObject({ filesStatted: 2, filesRead: 1 });
    expect(again.total).toBe(5);
    expect((await store.cycle()).statistics).toMatchObject({ filesStatted: 0, filesRead: 0 });
  });

  it('stats a directory again when another process moved its cursors on', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    appendFileSync(path.join(dir, 'p1', 'b.log'), 'n1 11 5\n');
    // Another worker (no watch) reads the append first.
    expect((await store.cycle({ watch: undefined })).total).toBe(5);
    appendFileSync(path.join(dir, 'p1', 'a.log'), 'n2 11 2\n');
    const next = await store.cycle();
    // p1's cursors are not those this watch left: both of its files get a stat; only the new line is read.
    expect(next.statistics).toMatchObject({ filesStatted: 2, filesRead: 1, events: 1 });
    expect(next.total).toBe(7);
  });

  it('makes a full pass after fullPassEveryMs, and after a cycle that failed', async () => {
    writeProjects();
    const store = createStore();
    await store.cycle();
    clock += 30_000;
    expect((await store.cycle()).statistics.filesStatted).toBe(0);
    clock += 30_000;
    expect((await store.cycle()).statistics.filesStatted).toBe(6);
    expect((await store.cycle()).statistics.filesStatted).toBe(0);

    const failing: TranscriptFormat = {
      ...format,
      parseLine: () => {
        throw new Error('not this one');
      },
    };
    appendFileSync(path.join(dir, 'p1', 'a.log'), 'n1 11 5\n');
    // A state that refuses to load fails the cycle part-way.
    await expect(
      scanTranscripts({
        roots: [dir],
        format: failing,
        state: { get: () => undefined, keys: () => [], set: () => {}, delete: () => {}, load: () => Promise.reject(new Error('database gone')) },
        namespace: 'test/box',
        watch,
      }),
    ).rejects.toThrow('database gone');
    const after = await store.cycle();
    expect(after.statistics).toMatchObject({ filesStatted: 6, filesRead: 1 });
    expect(after.total).toBe(5);
  });

  it('finds a root that appears after the cycles began, and files of a directory replaced at the same path', async () => {
    const later = path.join(dir, 'later');
    const store = createStore();
    const scanBoth = () =>
      scanTranscripts({ roots: [path.join(dir, 'p1'), later], format, state: createStagedState(new Map()).state, namespace: 'test/box', watch });
    writeProjects();
    expect((await scanBoth()).statistics.missingRoots).toEqual([later]);
    mkdirSync(later);
    writeFileSync(path.join(later, 'x.log'), 'x 10 1\n');
    expect((await scanBoth()).statistics).toMatchObject({ missingRoots: [], files: 3 });

    await store.cycle();
    rmSync(path.join(dir, 'p2'), { recursive: true });
    mkdirSync(path.join(dir, 'p2'));
    writeFileSync(path.join(dir, 'p2', 'a.log'), 'p2z 14 9\n');
    const replaced = await store.cycle();
    // p1, p3 and later keep their files; p2 holds only the new one.
    expect(replaced.statistics).toMatchObject({ files: 6, filesRead: 1 });
    expect(replaced.total).toBe(9);
    appendFileSync(path.join(dir, 'p2', 'a.log'), 'p2y 14 1\n');
    expect((await store.cycle()).statistics).toMatchObject({ filesStatted: 1, filesRead: 1 });
  });
});
