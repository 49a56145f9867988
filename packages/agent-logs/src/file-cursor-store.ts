import { sep } from 'node:path';
import type { UsageAdapterV1State } from '@utt/core';
import type { FileCursor } from './file-cursor';

/**
 * The scan's file cursors, kept in the state one value per directory: a
 * string with a line per file, `name⇥dev⇥ino⇥size⇥mtime in µs⇥offset⇥lines⇥head[|tail]`
 * and the adapter's carry as JSON when there is one. Every cycle loads all
 * of them to compare with a stat of each file, so they are kept as one string
 * a directory (a transcript root has a few dozen directories and thousands of
 * files): loading builds no object per file, an unchanged file is told by
 * comparing its line's `dev⇥ino⇥size⇥mtime⇥` in place, and
 * only the directories whose files were read are decoded and written back.
 */
export class FileCursorStore {
  /** The stored string of each directory looked at (a newline before every line, the lines sorted by name), and where its next line starts. */
  private readonly stored = new Map<string, { readonly text: string; next: number }>();
  /** Directories this cycle changed, decoded: file name → its line's fields after the name. */
  private readonly changed = new Map<string, Map<string, string>>();

  private constructor(
    private readonly state: UsageAdapterV1State,
    private readonly prefix: string,
  ) {}

  /** Loads every directory's cursors kept under `prefix`. */
  static async open(state: UsageAdapterV1State, prefix: string): Promise<FileCursorStore> {
    await state.load?.({ prefixes: [prefix] });
    return new FileCursorStore(state, prefix);
  }

  /**
   * Whether the file's identity, size and mtime are still those of its
   * cursor: nothing to read. Files come in path order and a directory's
   * lines are sorted by name, so each lookup starts where the last one in
   * that directory ended.
   */
  isUnchanged(path: string, info: { dev: number; ino: number; size: number; mtimeMs: number }): boolean {
    const cut = path.lastIndexOf(sep);
    if (cut !== this.last.directory.length || !path.startsWith(this.last.directory)) {
      const directory = path.slice(0, cut);
      this.last = { directory, changed: this.changed.get(directory), stored: this.storedOf(directory) };
    }
    const name = escapeName(path.slice(cut + 1));
    const { changed, stored } = this.last;
    if (changed) {
      const line = changed.get(name);
      return line !== undefined && sameIdentity(line, 0, info);
    }
    const at = findLine(stored, name);
    return at >= 0 && sameIdentity(stored.text, at + name.length + 2, info);
  }

  /**
   * Whether every file of `directory` (`paths`, sorted, with their stats:
   * undefined for a file gone) is unchanged and the directory has no other
   * cursors: `isUnchanged` of each file, in one pass over the directory's
   * stored text (the nothing-new cycle's case). False tells nothing about the
   * single files: ask `isUnchanged` then.
   */
  allUnchanged(directory: string, paths: readonly string[], infos: ReadonlyArray<{ dev: number; ino: number; size: number; mtimeMs: number } | undefined>): boolean {
    if (this.changed.has(directory)) return false;
    const { text } = this.storedOf(directory);
    const start = directory.length + 1;
    let at = 0;
    for (let index = 0; index < paths.length; index++) {
      const info = infos[index];
      const name = (paths[index] as string).slice(start);
      // A name with a tab is stored escaped (and one with a newline or a backslash cannot match its stored form).
      if (info === undefined || name.includes('\t')) return false;
      const line = `\n${name}\t${info.dev}\t${info.ino}\t${info.size}\t${microseconds(info.mtimeMs)}\t`;
      if (!text.startsWith(line, at)) return false;
      at = text.indexOf('\n', at + line.length);
      if (at < 0) at = text.length;
    }
    return at === text.length;
  }

  // The directory of the last file asked about: a directory's files come one after another.
  private last: { directory: string; changed: Map<string, string> | undefined; stored: { readonly text: string; next: number } } = {
    directory: '\u0000',
    changed: undefined,
    stored: { text: '', next: 0 },
  };

  get(path: string): FileCursor | undefined {
    const cut = path.lastIndexOf(sep);
    const line = this.lineOf(path.slice(0, cut), escapeName(path.slice(cut + 1)));
    if (line === undefined) return undefined;
    const fields = line.split('\t');
    const [dev, ino, size, mtimeUs, offset, lines] = fields.slice(0, 6).map(Number) as [number, number, number, number, number, number];
    const mtimeMs = mtimeUs / 1000;
    // The head field holds the tail's digest after a `|` (cursors of earlier versions have none).
    const headField = fields[6] ?? '';
    const bar = headField.indexOf('|');
    const head = bar < 0 ? headField : headField.slice(0, bar);
    const cursor: FileCursor = bar < 0 ? { dev, ino, size, mtimeMs, offset, lines, head } : { dev, ino, size, mtimeMs, offset, lines, head, tail: headField.slice(bar + 1) };
    return fields.length > 7 ? { ...cursor, carry: JSON.parse(fields[7] as string) as unknown } : cursor;
  }

  set(path: string, cursor: FileCursor): void {
    const cut = path.lastIndexOf(sep);
    let line = `${cursor.dev}\t${cursor.ino}\t${cursor.size}\t${microseconds(cursor.mtimeMs)}\t${cursor.offset}\t${cursor.lines}\t${cursor.head}`;
    if (cursor.tail !== undefined) line += `|${cursor.tail}`;
    // JSON writes no tab or newline outside its strings, and escapes them inside.
    if (cursor.carry !== undefined) line += `\t${JSON.stringify(cursor.carry)}`;
    this.writable(path.slice(0, cut)).set(escapeName(path.slice(cut + 1)), line);
  }

  /** Drops the cursors of files not in `present` (deleted or no longer under a root). */
  forgetAllBut(present: ReadonlySet<string>): void {
    for (const key of this.state.keys(this.prefix)) {
      const directory = key.slice(this.prefix.length);
      this.forget(directory, (name) => !present.has(directory + sep + name));
    }
  }

  /** Drops the cursors of files no longer in the listings of these directories (all of them, for a directory with no listing). */
  forgetVanished(directories: readonly string[], listings: ReadonlyMap<string, readonly [number, number, readonly string[], ...unknown[]]>): void {
    for (const directory of directories) {
      const names = new Set(listings.get(directory)?.[2]);
      this.forget(directory, (name) => !names.has(name));
    }
  }

  /** Stages the directories whose cursors changed. */
  commit(): void {
    for (const [directory, lines] of this.changed) {
      const key = this.prefix + directory;
      const text = Array.from(lines, ([name, line]) => `\n${name}\t${line}`).sort().join('');
      if (text === '') this.state.delete(key);
      else this.state.set(key, text);
      this.stored.set(directory, { text, next: 0 });
    }
    this.changed.clear();
    this.last = { directory: '\u0000', changed: undefined, stored: { text: '', next: 0 } };
  }

  /** The directory's cursors as stored text: as loaded, or as `commit()` staged them ('' for none). */
  textOf(directory: string): string {
    return this.storedOf(directory).text;
  }

  private forget(directory: string, gone: (name: string) => boolean): void {
    const names = this.changed.has(directory)
      ? [...(this.changed.get(directory) as Map<string, string>).keys()]
      : this.storedOf(directory)
          .text.split('\n')
          .map((line) => line.slice(0, line.indexOf('\t')))
          .filter((name) => name !== '');
    const vanished = names.filter((name) => gone(unescapeName(name)));
    if (vanished.length === 0) return;
    const lines = this.writable(directory);
    for (const name of vanished) lines.delete(name);
  }

  private storedOf(directory: string): { readonly text: string; next: number } {
    let stored = this.stored.get(directory);
    if (stored === undefined) {
      const value = this.state.get(this.prefix + directory);
      stored = { text: typeof value === 'string' ? value : '', next: 0 };
      this.stored.set(directory, stored);
    }
    return stored;
  }

  private lineOf(directory: string, name: string): string | undefined {
    const changed = this.changed.get(directory);
    if (changed) return changed.get(name);
    const stored = this.storedOf(directory);
    const at = findLine(stored, name);
    if (at < 0) return undefined;
    const end = stored.text.indexOf('\n', at + 1);
    return stored.text.slice(at + name.length + 2, end < 0 ? stored.text.length : end);
  }

  /** The directory's cursors decoded, for this cycle to change. */
  private writable(directory: string): Map<string, string> {
    let lines = this.changed.get(directory);
    if (lines === undefined) {
      lines = new Map();
      for (const line of this.storedOf(directory).text.split('\n')) {
        const tab = line.indexOf('\t');
        if (tab > 0) lines.set(line.slice(0, tab), line.slice(tab + 1));
      }
      this.changed.set(directory, lines);
      if (directory === this.last.directory) this.last = { ...this.last, changed: lines };
    }
    return lines;
  }
}

/**
 * The mtime as whole microseconds: every cycle compares thousands of them, and
 * an integer is read from its digits (and written) far faster than a fraction.
 */
function microseconds(mtimeMs: number): number {
  return Math.round(mtimeMs * 1000);
}

/** Whether the fields at `at` (`dev⇥ino⇥size⇥mtime⇥`) are those of `info`. */
function sameIdentity(text: string, at: number, info: { dev: number; ino: number; size: number; mtimeMs: number }): boolean {
  return text.startsWith(`${info.dev}\t${info.ino}\t${info.size}\t${microseconds(info.mtimeMs)}\t`, at);
}

/** Where the line of `name` starts (its newline), or -1; moves the directory's position past it. */
function findLine(stored: { readonly text: string; next: number }, name: string): number {
  const { text } = stored;
  let at = stored.next;
  // The usual case: the next line is this file's.
  if (!(text.charCodeAt(at) === 10 && text.charCodeAt(at + name.length + 1) === 9 && text.startsWith(name, at + 1))) {
    at = text.indexOf(`\n${name}\t`);
    if (at < 0) return -1;
  }
  const end = text.indexOf('\n', at + 1);
  stored.next = end < 0 ? text.length : end;
  return at;
}

// A file name may hold a tab, a newline or a backslash: escaped, so that every cursor stays one line of fields.
function escapeName(name: string): string {
  return /[\t\n\\]/.test(name) ? name.replace(/[\t\n\\]/g, (character) => (character === '\t' ? '\\t' : character === '\n' ? '\\n' : '\\\\')) : name;
}

function unescapeName(name: string): string {
  return name.includes('\\') ? name.replace(/\\([tn\\])/g, (_, character: string) => (character === 't' ? '\t' : character === 'n' ? '\n' : '\\')) : name;
}

/**
 * The path, device and inode of every file whose cursor `text` holds (a
 * directory's stored value under the cursor prefix), in the stored order.
 */
export function storedFileIdentities(directory: string, text: string): Array<{ readonly path: string; readonly dev: string; readonly ino: string }> {
  const identities: Array<{ path: string; dev: string; ino: string }> = [];
  for (const line of text.split('\n')) {
    const [name, dev, ino] = line.split('\t', 3);
    if (!name || dev === undefined || ino === undefined) continue;
    identities.push({ path: directory + sep + unescapeName(name), dev, ino });
  }
  return identities;
}
