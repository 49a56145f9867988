import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStagedState } from '@utt/core';
import { logLineFormat } from './__fixtures__/log-line-format';
import { createMemoryState, type MemoryState } from './memory-state';
import { findEarlierMachineName } from './renamed-machine';
import { scanTranscripts } from './scan-transcripts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-renamed-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const scan = (state: MemoryState, namespace: string, continueFrom?: (state: MemoryState) => Promise<string | undefined>) =>
  scanTranscripts({ roots: [dir], format: logLineFormat, state, namespace, continueFrom: continueFrom as never });

function writeFiles(count: number): void {
  for (let index = 0; index < count; index++) writeFileSync(path.join(dir, `s${index}.log`), `e${index} 10 ${index + 1}\n`);
}

const look = (state: MemoryState, namespace: string, roots = [dir]) =>
  findEarlierMachineName(state, { agentPrefix: 'agent/', candidatePrefix: namespace.slice(0, namespace.lastIndexOf('@') + 1), namespace, roots });

/** The same path, another file (another inode): made while the first one still exists, so its inode cannot be reused. */
function replace(index: number): void {
  const file = path.join(dir, `s${index}.log`);
  writeFileSync(`${file}.next`, `other${index} 10 1\n`);
  renameSync(`${file}.next`, file);
}

describe('findEarlierMachineName', () => {
  it('recognises the namespace whose files are still here, the same files', async () => {
    writeFiles(4);
    const state = createMemoryState();
    await scan(state, 'agent/alice@old');
    expect(await look(state, 'agent/alice@new')).toEqual({ namespace: 'agent/alice@old', looked: 4, present: 4, matching: 4 });
    // Its own namespace is never a candidate.
    expect(await look(state, 'agent/alice@old')).toBeUndefined();
    // A file replaced since: three of four are still the same files, a clear majority.
    replace(0);
    expect(await look(state, 'agent/alice@new')).toMatchObject({ namespace: 'agent/alice@old', matching: 3 });
  });

  it('does not take another machine with the same paths for this one', async () => {
    writeFiles(4);
    const state = createMemoryState();
    await scan(state, 'agent/alice@desktop');
    // Half of the files at those paths are other files: not this machine's state.
    replace(0);
    replace(1);
    expect(await look(state, 'agent/alice@laptop')).toBeUndefined();
    // Files of other names, none at the paths it knew.
    rmSync(dir, { recursive: true });
    writeFiles(0);
    expect(await look(state, 'agent/alice@laptop')).toBeUndefined();
  });

  it('looks only at the same user, and only at files under the roots read now', async () => {
    writeFiles(4);
    const state = createMemoryState();
    // Another user of this machine, who can read these files: not this user under another host name.
    await scan(state, 'agent/bob@box');
    expect(await look(state, 'agent/alice@box-2')).toBeUndefined();
    expect(await look(state, 'agent/bob@box-2')).toMatchObject({ namespace: 'agent/bob@box', matching: 4 });
    // Files this cycle does not read tell nothing.
    expect(await look(state, 'agent/bob@box-2', [path.join(dir, 'elsewhere')])).toBeUndefined();
  });

  it('asks for at least three matching files, or every file of a namespace that knew fewer', async () => {
    writeFiles(1);
    const state = createMemoryState();
    await scan(state, 'agent/alice@old');
    expect(await look(state, 'agent/alice@new')).toMatchObject({ namespace: 'agent/alice@old', matching: 1 });
    writeFiles(5);
    const five = createMemoryState();
    await scan(five, 'agent/alice@old');
    // Two of five left: the others deleted, and too few to tell.
    for (const index of [2, 3, 4]) rmSync(path.join(dir, `s${index}.log`));
    expect(await look(five, 'agent/alice@new')).toBeUndefined();
  });
});

describe('scanTranscripts continueFrom', () => {
  it('is asked only in a namespace without state, once: its answer is kept and followed', async () => {
    writeFiles(3);
    const state = createMemoryState();
    await scan(state, 'agent/alice@old');
    const asked: string[] = [];
    const look = async () => {
      asked.push('asked');
      return 'agent/alice@old';
    };
    // The namespace has state: not asked.
    expect((await scan(state, 'agent/alice@old', look)).namespace).toBe('agent/alice@old');
    expect(asked).toHaveLength(0);
    // A new name: asked, and the scan goes on in the old namespace, where every file is known.
    const renamed = await scan(state, 'agent/alice@new', look);
    expect(renamed).toMatchObject({ namespace: 'agent/alice@old', cells: [], statistics: { filesRead: 0 } });
    expect(asked).toHaveLength(1);
    expect(state.keys('agent/alice@new/')).toEqual(['agent/alice@new/continues']);
    // Later cycles follow the kept answer without asking.
    writeFileSync(path.join(dir, 's9.log'), 'e9 11 9\n');
    const later = await scan(state, 'agent/alice@new', look);
    expect(later.namespace).toBe('agent/alice@old');
    expect(later.cells.map((cell) => cell.tokens[0])).toEqual([9]);
    expect(asked).toHaveLength(1);
  });

  it('costs a namespace with state no further round trip', async () => {
    writeFiles(3);
    const stored = createMemoryState();
    await scan(stored, 'agent/alice@box');
    const selections: unknown[] = [];
    const staged = createStagedState(async (selection) => {
      selections.push(selection);
      const values = new Map<string, unknown>();
      for (const [key, value] of stored.entries()) {
        if (selection.keys?.includes(key) || selection.prefixes?.some((prefix) => key.startsWith(prefix))) values.set(key, value);
      }
      return values;
    });
    const result = await scanTranscripts({ roots: [dir], format: logLineFormat, state: staged.state, namespace: 'agent/alice@box', continueFrom: async () => 'agent/elsewhere' });
    expect(result.namespace).toBe('agent/alice@box');
    // The nothing-new cycle's one load, the kept answer's key beside the others.
    expect(selections).toEqual([
      { keys: ['agent/alice@box/roots', 'agent/alice@box/meta', 'agent/alice@box/continues'], prefixes: ['agent/alice@box/dirs/', 'agent/alice@box/cursors/'] },
    ]);
  });
});
