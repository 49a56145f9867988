import { hashKeyInto } from './hash-key';
import type { UsageEvent } from './usage-event';

/**
 * Events of one file in the form a worker thread posts them: the numbers in
 * one Float64Array (transferred, not copied), models and labels once each.
 * Structured cloning of an object per event would cost more than parsing
 * them; labels keep their identity (one object per project and session)
 * through an index. The worker hashes the response keys and variants (what
 * the ledger keeps) into numbers, so that work is spread over the threads
 * and no string is made for them on either side.
 */
export type EncodedEvents = {
  labels: Array<Readonly<Record<string, string>>>;
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

export function createEventEncoder(): { encode(event: UsageEvent): void; take(): EncodedEvents } {
  let labels: Array<Readonly<Record<string, string>>> = [];
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
        label = labels.length;
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
      const taken = { labels, models, numbers: numbers.slice(0, count * SLOTS) };
      labels = [];
      labelIndex.clear();
      models = [];
      modelIndex.clear();
      count = 0;
      return taken;
    },
  };
}
