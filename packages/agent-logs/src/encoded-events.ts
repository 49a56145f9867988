import { hashKey } from './hash-key';
import { formatTokenVector, type TokenVector } from './token-vector';
import type { UsageEvent } from './usage-event';

/**
 * Events of one file in the form a worker thread posts them: the numbers in
 * one Float64Array (transferred, not copied), the hashed keys in one string,
 * models and labels once each. Structured cloning of an object per event
 * would cost more than parsing them; labels keep their identity (one object
 * per project and session) through an index. The worker hashes the response
 * keys (what the ledger keeps), so that work is spread over the threads.
 */
export type EncodedEvents = {
  labels: Array<Readonly<Record<string, string>>>;
  models: string[];
  numbers: Float64Array<ArrayBuffer>;
  /** Per event: the hashed key, then the hashed variant (or HASH_LENGTH spaces: none). */
  keys: string;
  /** Per event, joined by `;`: its counters as the ledger stores them (formatTokenVector), formatted here rather than on the ledger's thread. */
  counters: string;
};

/** timestamp, model, labels, 7 tokens (NaN: null), loose, rank. */
const SLOTS = 12;
const HASH_LENGTH = 11;
const NO_VARIANT = ' '.repeat(HASH_LENGTH);

export function createEventEncoder(): { encode(event: UsageEvent): void; take(): EncodedEvents } {
  let labels: Array<Readonly<Record<string, string>>> = [];
  let labelIndex = new Map<object, number>();
  let models: string[] = [];
  let modelIndex = new Map<string, number>();
  let numbers: Float64Array<ArrayBuffer> = new Float64Array(SLOTS * 256);
  let count = 0;
  let keys: string[] = [];
  let counters: string[] = [];
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
      numbers[at] = event.timestampMs;
      numbers[at + 1] = model;
      numbers[at + 2] = label;
      for (let index = 0; index < 7; index += 1) numbers[at + 3 + index] = event.tokens[index] ?? Number.NaN;
      numbers[at + 10] = event.loose === true ? 1 : 0;
      numbers[at + 11] = event.rank;
      keys.push(hashKey(event.key), event.variant ? hashKey(event.variant) : NO_VARIANT);
      counters.push(formatTokenVector(event.tokens));
      count += 1;
    },
    take() {
      const taken = { labels, models, numbers: numbers.slice(0, count * SLOTS), keys: keys.join(''), counters: counters.join(';') };
      labels = [];
      labelIndex = new Map();
      models = [];
      modelIndex = new Map();
      numbers = new Float64Array(SLOTS * 256);
      count = 0;
      keys = [];
      counters = [];
      return taken;
    },
  };
}

/** Calls `onEvent` with each event (its `key` and `variant` already hashed, and its counters formatted, as the ledger's addHashed takes them). */
export function decodeEvents(encoded: EncodedEvents, onEvent: (event: UsageEvent, key: string, variant: string, counters: string) => void): void {
  const { labels, models, numbers, keys } = encoded;
  const count = numbers.length / SLOTS;
  const counters = count === 0 ? [] : encoded.counters.split(';');
  for (let event = 0; event < count; event += 1) {
    const at = event * SLOTS;
    const tokens = new Array<number | null>(7) as TokenVector;
    for (let index = 0; index < 7; index += 1) {
      const value = numbers[at + 3 + index] as number;
      tokens[index] = Number.isNaN(value) ? null : value;
    }
    const key = keys.slice(event * 2 * HASH_LENGTH, event * 2 * HASH_LENGTH + HASH_LENGTH);
    const variantText = keys.slice(event * 2 * HASH_LENGTH + HASH_LENGTH, (event + 1) * 2 * HASH_LENGTH);
    const variant = variantText === NO_VARIANT ? '' : variantText;
    onEvent(
      {
        timestampMs: numbers[at] as number,
        model: models[numbers[at + 1] as number] as string,
        labels: labels[numbers[at + 2] as number] as Readonly<Record<string, string>>,
        tokens,
        key,
        variant,
        loose: numbers[at + 10] === 1,
        rank: numbers[at + 11] as number,
      },
      key,
      variant,
      counters[event] as string,
    );
  }
}
