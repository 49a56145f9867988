import { hashKeyInto } from './hash-key';
import type { UsageEvent } from './usage-event';

/**
 * Events of one file in the form a worker thread posts them: the numbers in
 * one Float64Array (transferred, not copied), models once each. Structured
 * cloning of an object per event would cost more than parsing them. A labels
 * object (one per project and session) gets a number from its thread's
 * encoder and is sent once, with the first file that uses it: cloned with
 * every file, each file's copy would be a new object to the ledger, which
 * keys cells by labels object. The worker hashes the response keys and
 * variants (what the ledger keeps) into numbers, so that work is spread over
 * the threads and no string is made for them on either side.
 */
export type EncodedEvents = {
  /** The labels numbered from `labelBase` on: those first used in this file, or (after a LabelTable took the file) every labels object of the thread, from 0. */
  labels: Array<Readonly<Record<string, string>>>;
  labelBase: number;
  models: string[];
  /** SLOTS numbers per event, at the EVENT_* offsets. */
  numbers: Float64Array<ArrayBuffer>;
};

/** Offsets of an event's numbers: timestamp, model and labels (indexes), 7 tokens (NaN: null), flags, rank, the key's and the variant's hash halves (hashKeyInto). */
export const EVENT_TIMESTAMP = 0;
export const EVENT_MODEL = 1;
export const EVENT_LABELS = 2;
export const EVENT_TOKENS = 3;
/** EVENT_LOOSE | EVENT_HAS_VARIANT */
export const EVENT_FLAGS = 10;
export const EVENT_RANK = 11;
export const EVENT_KEY = 12;
export const EVENT_VARIANT = 14;
export const SLOTS = 16;
export const EVENT_LOOSE = 1;
export const EVENT_HAS_VARIANT = 2;
const MAX_NUMBERED_LABELS = 4096;

/**
 * Encodes one thread's events, file by file (take() after each). Labels are
 * numbered for the life of the encoder: pass every file it took, in order,
 * through one LabelTable before its events are read.
 */
export function createEventEncoder(): { encode(event: UsageEvent): void; take(): EncodedEvents } {
  let labels: Array<Readonly<Record<string, string>>> = [];
  let labelBase = 0;
  const labelIndex = new Map<object, number>();
  let models: string[] = [];
  const modelIndex = new Map<string, number>();
  let numbers: Float64Array<ArrayBuffer> = new Float64Array(SLOTS * 256);
  let count = 0;
  const hash = new Uint32Array(2);
  return {
    encode(event) {
      let label = labelIndex.get(event.labels);
      if (label === undefined) {
        label = labelBase + labels.length;
        labels.push(event.labels);
        labelIndex.set(event.labels, label);
      }
      let model = modelIndex.get(event.model);
      if (model === undefined) {
        model = models.length;
        models.push(event.model);
        modelIndex.set(event.model, model);
      }
      if ((count + 1) * SLOTS > numbers.length) {
        const larger = new Float64Array(numbers.length * 2);
        larger.set(numbers);
        numbers = larger;
      }
      const at = count * SLOTS;
      numbers[at + EVENT_TIMESTAMP] = event.timestampMs;
      numbers[at + EVENT_MODEL] = model;
      numbers[at + EVENT_LABELS] = label;
      for (let index = 0; index < 7; index += 1) numbers[at + EVENT_TOKENS + index] = event.tokens[index] ?? Number.NaN;
      numbers[at + EVENT_FLAGS] = (event.loose === true ? EVENT_LOOSE : 0) | (event.variant ? EVENT_HAS_VARIANT : 0);
      numbers[at + EVENT_RANK] = event.rank;
      hashKeyInto(event.key, hash);
      numbers[at + EVENT_KEY] = hash[0] as number;
      numbers[at + EVENT_KEY + 1] = hash[1] as number;
      if (event.variant) {
        hashKeyInto(event.variant, hash);
        numbers[at + EVENT_VARIANT] = hash[0] as number;
        numbers[at + EVENT_VARIANT + 1] = hash[1] as number;
      } else {
        numbers[at + EVENT_VARIANT] = 0;
        numbers[at + EVENT_VARIANT + 1] = 0;
      }
      count += 1;
    },
    take() {
      // A copy of what was written (posted, or kept by the caller); the buffer is reused for the next file:
      // a fresh one per file cost more than encoding the file's events.
      const taken = { labels, labelBase, models, numbers: numbers.slice(0, count * SLOTS) };
      labelBase += labels.length;
      if (labelBase > MAX_NUMBERED_LABELS) {
        // A format that makes a labels object per event: start numbering again (the next file's base is 0), so neither side keeps them all.
        labelIndex.clear();
        labelBase = 0;
      }
      labels = [];
      models = [];
      modelIndex.clear();
      count = 0;
      return taken;
    },
  };
}

/**
 * The labels of one thread's files (see createEventEncoder): `take` each
 * file's events in the order its encoder took them, even a file that failed
 * (its labels may be used by the next); afterwards `labels[n]` of the events
 * is the object numbered n.
 */
export function createLabelTable(): { take(encoded: EncodedEvents): void } {
  let all: Array<Readonly<Record<string, string>>> = [];
  return {
    take(encoded) {
      // Numbering started again: a new array (files taken before keep theirs).
      if (encoded.labelBase === 0 && all.length > 0) all = [];
      if (encoded.labelBase !== all.length) throw new Error(`scan: a thread's labels arrived out of order (${encoded.labelBase} after ${all.length})`);
      for (const labels of encoded.labels) all.push(labels);
      encoded.labels = all;
      encoded.labelBase = 0;
    },
  };
}
