const brand = Symbol.for('@utt/core/StateJsonText');

/** A state value's JSON text: a string, or its UTF-8 bytes. */
export type StateJson = string | Uint8Array;

/**
 * A state value staged as the JSON text it is stored as (UsageAdapterV1State's
 * setJson): a store that knows it sends the text as it is instead of
 * serialising the value again; `toJSON()` gives the value, so anything else
 * that serialises staged values (JSON.stringify) still writes the same JSON.
 * A cold agent-log scan stages megabytes of state it already builds as text.
 *
 * Given a function, the text is made when first asked for (`json`, `value()`,
 * `toJSON()`): the worker's store asks while the database inserts the cycle's
 * rows, so that building megabytes of state overlaps that wait.
 */
export class StateJsonText {
  readonly [brand] = true;
  #json: StateJson | undefined;
  #make: (() => StateJson) | undefined;
  #value: unknown;
  #parsed = false;

  /** `json`: one JSON value, as a string or as its UTF-8 bytes, or a function that gives it (called once). */
  constructor(json: StateJson | (() => StateJson)) {
    if (typeof json === 'function') this.#make = json;
    else this.#json = checkJson(json);
  }

  /** The text (made now if it was staged as a function). */
  get json(): StateJson {
    if (this.#json === undefined) {
      const make = this.#make as () => StateJson;
      this.#make = undefined;
      this.#json = checkJson(make());
    }
    return this.#json;
  }

  /** Whether the text is made (false only for a function not yet called). */
  get made(): boolean {
    return this.#json !== undefined;
  }

  /** The value the text holds, parsed once. */
  value(): unknown {
    if (!this.#parsed) {
      const json = this.json;
      this.#value = JSON.parse(typeof json === 'string' ? json : decoder.decode(json));
      this.#parsed = true;
    }
    return this.#value;
  }

  toJSON(): unknown {
    return this.value();
  }

  /** Whether `value` is a StateJsonText (of this or another copy of @utt/core). */
  static isInstance(value: unknown): value is StateJsonText {
    return typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true;
  }
}

function checkJson(json: unknown): StateJson {
  if (typeof json !== 'string' && !(json instanceof Uint8Array)) throw new TypeError('state JSON text must be a string or UTF-8 bytes');
  return json;
}

const decoder = new TextDecoder();
