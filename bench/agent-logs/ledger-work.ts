// The main thread's share of a cold parallel scan, alone: the dense corpus's
// events as the worker threads post them (read once and cached in
// bench/.data/ledger-events.bin), decoded and de-duplicated by the ledger,
// then cells() and commit() into an empty state. Prints the phases' times
// and a digest of the cells and the state, to compare two versions of the
// ledger: `tsx agent-logs/ledger-work.ts [rounds]` (each round a fresh ledger
// in this process; run it a few times for fresh processes).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { createClaudeCodeFormat } from '../../packages/adapter-claude-code/src/claude-code-format';
import { createEventEncoder, createLabelTable, type EncodedEvents, EVENT_FLAGS, EVENT_HAS_VARIANT, EVENT_KEY, EVENT_LABELS, EVENT_LOOSE, EVENT_MODEL, EVENT_RANK, EVENT_TIMESTAMP, EVENT_TOKENS, EVENT_VARIANT, SLOTS } from '../../packages/agent-logs/src/encoded-events';
import { keyText } from '../../packages/agent-logs/src/hash-key';
import type { TokenVector } from '../../packages/agent-logs/src/token-vector';
import { createStagedState, StateJsonText } from '../../packages/core/src/index';
import { createMemoryState } from '../../packages/agent-logs/src/memory-state';
import { readTranscriptFile } from '../../packages/agent-logs/src/read-transcript-file';
import { UsageLedger as CurrentLedger } from '../../packages/agent-logs/src/usage-ledger';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, '../.data/agent-logs-dense/claude/projects');
const cache = path.join(here, '../.data/ledger-events-v3.bin');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const file of files(full)) out.push(file);
    else if (entry.name.endsWith('.jsonl')) out.push(full);
  }
  return out;
}

if (!existsSync(cache) || statSync(cache).mtimeMs < statSync(dataDir).mtimeMs) {
  const format = createClaudeCodeFormat();
  const encoder = createEventEncoder();
  const all: EncodedEvents[] = [];
  for (const file of files(dataDir).sort()) {
    await readTranscriptFile(file, undefined, format, { emit: (event) => encoder.encode(event), malformed: () => {} });
    all.push(encoder.take());
  }
  writeFileSync(cache, serialize(all));
}
// LEDGER=reference: the ledger as it was before issue-12h's changes (an event object per event, keys as strings), to compare with.
const reference = process.env.LEDGER === 'reference' ? (await import('../../packages/agent-logs/src/__fixtures__/reference-ledger/usage-ledger')).UsageLedger : undefined;
const UsageLedger = (reference ?? CurrentLedger) as typeof CurrentLedger;

/** Feeds a file's events to the reference ledger as its scan did: an event object, a tokens array and two key strings each. */
function addAsReference(ledger: CurrentLedger, file: EncodedEvents, _unused: number, counted: (result: string) => void = () => {}): void {
  const { numbers, models, labels } = file;
  for (let at = 0; at < numbers.length; at += SLOTS) {
    const tokens = new Array<number | null>(7) as TokenVector;
    for (let index = 0; index < 7; index += 1) {
      const value = numbers[at + EVENT_TOKENS + index] as number;
      tokens[index] = Number.isNaN(value) ? null : value;
    }
    const flags = numbers[at + EVENT_FLAGS] as number;
    const key = keyText(numbers[at + EVENT_KEY] as number, numbers[at + EVENT_KEY + 1] as number);
    const variant = flags & EVENT_HAS_VARIANT ? keyText(numbers[at + EVENT_VARIANT] as number, numbers[at + EVENT_VARIANT + 1] as number) : '';
    const event = {
      timestampMs: numbers[at + EVENT_TIMESTAMP] as number,
      model: models[numbers[at + EVENT_MODEL] as number] as string,
      labels: labels[numbers[at + EVENT_LABELS] as number] as Readonly<Record<string, string>>,
      tokens,
      key,
      variant,
      loose: (flags & EVENT_LOOSE) !== 0,
      rank: numbers[at + EVENT_RANK] as number,
    };
    counted(ledger.addHashed(event, key, variant));
  }
}

const encoded = deserialize(readFileSync(cache)) as EncodedEvents[];
const labelTable = createLabelTable();
for (const file of encoded) labelTable.take(file);
const rounds = Number(process.argv[2] ?? 3);
for (let round = 0; round < rounds; round += 1) {
  // STATE=memory: a plain in-memory state, whose values are objects (the ledger stages its hours as values, not as JSON text).
  const memory = createMemoryState();
  const staged = createStagedState(new Map());
  const stagedText = process.env.STATE !== 'memory';
  const state = stagedText ? staged.state : memory;
  const entries = (): Array<[string, unknown]> => (stagedText ? [...staged.changes().set] : memory.entries());
  const ledger = await UsageLedger.open(state, 'claude-code/bench');
  const cpu = process.cpuUsage();
  let started = performance.now();
  let events = 0;
  let duplicates = 0;
  const counted = (result: string) => {
    events += 1;
    if (result === 'duplicate') duplicates += 1;
  };
  for (const file of encoded) {
    if (!reference) {
      ledger.addEncoded(file, counted);
      continue;
    }
    addAsReference(ledger, file, 0, counted);
  }
  const addMs = performance.now() - started;
  const addCpu = process.cpuUsage(cpu);
  started = performance.now();
  const cells = ledger.cells();
  const cellsMs = performance.now() - started;
  const cellsCpu = process.cpuUsage(cpu);
  started = performance.now();
  ledger.commit();
  const commitMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const digest = createHash('md5');
  for (const cell of cells) digest.update(`${cell.bucketStart.toISOString()}|${cell.model}|${JSON.stringify(cell.labels)}|${cell.tokens.join(',')}\n`);
  const stateDigest = createHash('md5');
  let stateBytes = 0;
  for (const [key, value] of entries().sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // A value staged as JSON text is stored as that text: it must be JSON.stringify's, byte for byte.
    const text = StateJsonText.isInstance(value) ? Buffer.from(value.json).toString('utf8') : JSON.stringify(value);
    stateBytes += key.length + text.length;
    stateDigest.update(`${key}=${text}\n`);
  }
  console.log(
    `round ${round}: ${events} events (${duplicates} duplicates) add ${addMs.toFixed(0)} ms, cells ${cellsMs.toFixed(0)} ms (${cells.length}), commit ${commitMs.toFixed(0)} ms; CPU add ${((addCpu.user + addCpu.system) / 1000).toFixed(0)}, cells ${((cellsCpu.user + cellsCpu.system - addCpu.user - addCpu.system) / 1000).toFixed(0)}, commit ${((user + system - cellsCpu.user - cellsCpu.system) / 1000).toFixed(0)} ms; cells ${digest.digest('hex').slice(0, 12)}, state ${stateDigest.digest('hex').slice(0, 12)} (${entries().length} keys, ${(stateBytes / 1e6).toFixed(2)} MB)`,
  );
}

// INCREMENTAL=1: then cycles as a daemon runs them on that state (stored as
// JSON text, parsed back when loaded): each adds new responses (keys changed)
// in the hours of 21 files' events, to a fresh ledger; times of load+add and
// of cells()+commit() and serialising the changes per cycle, the median of 20 after 5 to warm up.
if (process.env.INCREMENTAL === '1') {
  const { createStagedState } = await import('@utt/core');
  const stored = new Map<string, string>();
  {
    const state = createMemoryState();
    const ledger = await UsageLedger.open(state, 'claude-code/bench');
    for (const file of encoded) {
      if (!reference) ledger.addEncoded(file, () => {});
      else addAsReference(ledger, file, 0);
    }
    ledger.cells();
    ledger.commit();
    for (const [key, value] of state.entries()) stored.set(key, JSON.stringify(value));
  }
  const addTimes: number[] = [];
  const endTimes: number[] = [];
  for (let cycle = 1; cycle <= 25; cycle += 1) {
    const staged = createStagedState(async (selection) => {
      const out = new Map<string, unknown>();
      for (const key of selection.keys ?? []) {
        const text = stored.get(key);
        if (text !== undefined) out.set(key, JSON.parse(text));
      }
      return out;
    });
    // STATE=memory: a state without setJson (the ledger stages its hours as values).
    const ledger = await UsageLedger.open(process.env.STATE === 'memory' ? { ...staged.state, setJson: undefined } : staged.state, 'claude-code/bench');
    const files = Array.from({ length: 21 }, (_, index) => encoded[(cycle * 97 + index * 131) % encoded.length] as EncodedEvents);
    let started = performance.now();
    const keys: Array<{ key: string; timestampMs: number }> = [];
    for (const file of files) {
      for (let at = 0; at < file.numbers.length; at += SLOTS) keys.push({ key: keyText(((file.numbers[at + EVENT_KEY] as number) ^ cycle) >>> 0, file.numbers[at + EVENT_KEY + 1] as number), timestampMs: file.numbers[at + EVENT_TIMESTAMP] as number });
    }
    await ledger.load(keys);
    for (const file of files) {
      const changed = { ...file, numbers: file.numbers.slice() };
      for (let at = 0; at < changed.numbers.length; at += SLOTS) changed.numbers[at + EVENT_KEY] = ((changed.numbers[at + EVENT_KEY] as number) ^ cycle) >>> 0;
      if (!reference) ledger.addEncoded(changed, () => {});
      else addAsReference(ledger, changed, 0);
    }
    const addMs = performance.now() - started;
    started = performance.now();
    ledger.cells();
    ledger.commit();
    // The changed values serialised as the store does (a text staged as JSON as it is, made now if deferred): part of the end's time.
    const { set, deleted } = staged.changes();
    for (const key of deleted) stored.delete(key);
    for (const [key, value] of set) stored.set(key, StateJsonText.isInstance(value) ? Buffer.from(value.json).toString('utf8') : JSON.stringify(value));
    const endMs = performance.now() - started;
    if (cycle > 5) {
      addTimes.push(addMs);
      endTimes.push(endMs);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  console.log(`incremental cycles (21 files' events, new keys): load+add median ${median(addTimes).toFixed(2)} ms, cells+commit median ${median(endTimes).toFixed(2)} ms (min ${Math.min(...endTimes).toFixed(2)})`);
}
