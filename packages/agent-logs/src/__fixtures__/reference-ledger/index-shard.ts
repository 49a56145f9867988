/**
 * One shard of the ledger's index (response key → the hours holding a copy),
 * as stored: `key:hour.hour;key:hour`. A cycle usually asks a stored shard
 * about one or two keys, so the text is searched rather than decoded into a
 * map; changes are kept beside it and merged when the shard is written.
 */
export class IndexShard {
  private readonly changes = new Map<string, readonly number[] | null>();
  /** A change is to a key the stored text holds: serialize() rebuilds the text rather than append to it. */
  private rewrite = false;

  constructor(private readonly text = '') {}

  get(key: string): readonly number[] | undefined {
    const changed = this.changes.get(key);
    if (changed !== undefined) return changed ?? undefined;
    const at = this.find(key);
    if (at < 0) return undefined;
    const end = this.text.indexOf(';', at);
    return this.text
      .slice(at + key.length + 1, end < 0 ? this.text.length : end)
      .split('.')
      .map(Number);
  }

  set(key: string, hours: readonly number[]): void {
    this.noteChange(key);
    this.changes.set(key, hours);
  }

  delete(key: string): void {
    this.noteChange(key);
    this.changes.set(key, null);
  }

  get changed(): boolean {
    return this.changes.size > 0;
  }

  /** The shard as stored, changes merged; '' when it holds nothing. */
  serialize(): string {
    if (this.changes.size === 0) return this.text;
    const parts: string[] = [];
    if (!this.rewrite) {
      // The usual case, responses seen for the first time: their entries go after the stored ones.
      if (this.text !== '') parts.push(this.text);
    } else if (this.text !== '') {
      for (const entry of this.text.split(';')) {
        if (!this.changes.has(entry.slice(0, entry.indexOf(':')))) parts.push(entry);
      }
    }
    for (const [key, hours] of this.changes) {
      if (hours === null || hours.length === 0) continue;
      // Nearly every response is held by one hour: no join() for it.
      parts.push(hours.length === 1 ? `${key}:${hours[0] as number}` : `${key}:${hours.join('.')}`);
    }
    // join() makes one flat string; appending with += would keep a rope of pieces in the state.
    return parts.join(';');
  }

  private noteChange(key: string): void {
    if (!this.rewrite && this.find(key) >= 0) this.rewrite = true;
  }

  /** Where `key`'s entry starts in the text, or -1 (keys are whole entries: a match must start one). */
  private find(key: string): number {
    // A shard being filled (a cold scan) has no stored text: no needle to build.
    if (this.text === '') return -1;
    const needle = `${key}:`;
    for (let at = this.text.indexOf(needle); at >= 0; at = this.text.indexOf(needle, at + 1)) {
      if (at === 0 || this.text.charCodeAt(at - 1) === 59) return at;
    }
    return -1;
  }
}
