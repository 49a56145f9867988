import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryState } from './memory-state';
import { scanTranscripts } from './scan-transcripts';
import type { TranscriptFormat } from './transcript-format';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-scan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// One event per line `<id> <hour> <tokens>`; a line starting with `!` is malformed.
const format: TranscriptFormat = {
  accept: (file) => file.endsWith('.log'),
  layout: () => 'lines',
  parseLine(line, file) {
    if (line.startsWith('!')) throw new Error('bad line');
    const [id, hour, tokens] = line.split(' ');
    file.emit({
      timestampMs: Date.parse(`2026-03-01T${hour}:00:00Z`),
      model: 'm',
      labels: {},
      tokens: [Number(tokens), null, null, null, null, null, 1],
      key: id as string,
      rank: Number(tokens),
    });
  },
};

const scan = (state = createMemoryState()) => scanTranscripts({ roots: [dir], format, state, namespace: 'test/box' });

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
    expect(state.keys('test/box/file/')).toHaveLength(1);
    rmSync(path.join(dir, 'gone.log'));
    await scan(state);
    expect(state.keys('test/box/file/')).toEqual([]);
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
    expect(state.keys('test/box/file/')).toHaveLength(2);
    const idle = await both();
    expect(idle.statistics.filesRead).toBe(0);
    rmSync(gone, { recursive: true });
    const after = await both();
    expect(after.statistics.missingRoots).toEqual([gone]);
    expect(state.keys('test/box/file/')).toEqual([`test/box/file/${path.join(kept, 'a.log')}`]);
  });
});
