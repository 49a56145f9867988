/**
 * One shard of the ledger's index (response key → the hours holding a copy),
 * as stored: `key:hour.hour;key:hour`. A cycle usually asks a stored shard
 * about one or two keys, so the text is searched rather than decoded into a
 * map; the ledger keeps its changes (of every shard) in one map and merges
 * a shard's into its text when the shard is written.
 */

/** The hours the stored text gives `key`, or undefined. */
export function storedIndexHours(text: string, key: string): number[] | undefined {
  const at = findIndexEntry(text, key);
  if (at < 0) return undefined;
  const end = text.indexOf(';', at);
  return text
    .slice(at + key.length + 1, end < 0 ? text.length : end)
    .split('.')
    .map(Number);
}

/**
 * The shard's text with `changes` merged ('' when it holds nothing): the keys
 * changed (in the order first changed) and their hours, null or empty for a
 * key no hour holds any more. `changed` says whether a key is among them.
 * `rewrite`: some changed key is in the text (else the changes are appended).
 */
export function serializeIndexShard(
  text: string,
  changes: ReadonlyArray<readonly [key: string, hours: readonly number[] | null]>,
  changed: (key: string) => boolean,
  rewrite: boolean,
): string {
  if (changes.length === 0) return text;
  const parts: string[] = [];
  if (!rewrite) {
    // The usual case, responses seen for the first time: their entries go after the stored ones.
    if (text !== '') parts.push(text);
  } else if (text !== '') {
    for (const entry of text.split(';')) {
      if (!changed(entry.slice(0, entry.indexOf(':')))) parts.push(entry);
    }
  }
  for (const [key, hours] of changes) {
    if (hours === null || hours.length === 0) continue;
    // Nearly every response is held by one hour: no join() for it.
    parts.push(hours.length === 1 ? `${key}:${hours[0] as number}` : `${key}:${hours.join('.')}`);
  }
  // join() makes one flat string; appending with += would keep a rope of pieces in the state.
  return parts.join(';');
}

/** Where `key`'s entry starts in the text, or -1 (keys are whole entries: a match must start one). */
export function findIndexEntry(text: string, key: string): number {
  // A shard being filled (a cold scan) has no stored text: no needle to build.
  if (text === '') return -1;
  const needle = `${key}:`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    if (at === 0 || text.charCodeAt(at - 1) === 59) return at;
  }
  return -1;
}
