const brand = Symbol.for('@utt/core/StateJsonText');

/**
 * A state value staged as the JSON text it is stored as (UsageAdapterV1State's
 * setJson): a store that knows it sends the text as it is instead of
 * serialising the value again; `toJSON()` gives the value, so anything else
 * that serialises staged values (JSON.stringify) still writes the same JSON.
 * A cold agent-log scan stages megabytes of state it already builds as text.
 */
export class StateJsonText {
  readonly [brand] = true;
  #value: unknown;
  #parsed = false;

  /** `json`: one JSON value, as a string or as its UTF-8 bytes. */
  constructor(readonly json: string | Uint8Array) {}

  /** The value the text holds, parsed once. */
  value(): unknown {
    if (!this.#parsed) {
      this.#value = JSON.parse(typeof this.json === 'string' ? this.json : decoder.decode(this.json));
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

const decoder = new TextDecoder();
