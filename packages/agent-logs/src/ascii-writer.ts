const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-';
const DIGITS = Uint8Array.from(ALPHABET, (character) => character.charCodeAt(0));
const BLOCK_BYTES = 1 << 20;
/** The length before each text taken (takeBytes). */
const LENGTH_BYTES = 4;

/**
 * Builds a long ASCII text (an hour's copies, an index shard) in one reused
 * byte buffer and makes one string of it: a cold scan writes a hundred
 * thousand copies, and a string per copy and per field, joined, cost more
 * than the rest of writing the state.
 */
export class AsciiWriter {
  private bytes = Buffer.allocUnsafe(4096);
  private length = 0;
  private block: Buffer | undefined;
  private blockUsed = 0;

  /** Starts a new text. */
  reset(): void {
    this.length = 0;
  }

  /** The text written since reset(). */
  text(): string {
    return this.bytes.toString('latin1', 0, this.length);
  }

  /** Bytes written since reset(). */
  get position(): number {
    return this.length;
  }

  /** Drops what was written after `position`. */
  truncate(position: number): void {
    if (position < this.length) this.length = position;
  }

  /**
   * The bytes written since reset(), copied out of the reused buffer into a
   * larger block shared with the texts taken before (a cold scan takes
   * hundreds of hours: one allocation per megabyte, not one per hour). Kept
   * outside V8's heap, the young-generation collector never copies them.
   *
   * In the block, each text follows its length (four bytes, big-endian): the
   * framing of an element of PostgreSQL's binary arrays, in which the store
   * sends state values. Texts taken one after another then lie in the block
   * exactly as that array holds them, and the store sends them from here
   * instead of copying megabytes of hours into an array of its own
   * (@utt/postgres textArrayParameter, which checks the framing first).
   */
  takeBytes(): Uint8Array {
    const size = this.length;
    if (this.block === undefined || this.blockUsed + LENGTH_BYTES + size > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, LENGTH_BYTES + size));
      this.blockUsed = 0;
    }
    const start = this.blockUsed + LENGTH_BYTES;
    this.block.writeUInt32BE(size, start - LENGTH_BYTES);
    this.bytes.copy(this.block, start, 0, size);
    this.blockUsed = start + size;
    return this.block.subarray(start, start + size);
  }

  /** Bytes as they are (a text encoded once and written many times). */
  raw(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.bytes.length) this.grow(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Any text, as UTF-8. */
  utf8(text: string): void {
    const most = text.length * 3;
    if (this.length + most > this.bytes.length) this.grow(most);
    this.length += this.bytes.write(text, this.length, 'utf8');
  }

  byte(code: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length] = code;
    this.length += 1;
  }

  /** A hashed key's 11 characters (keyText(first, second)). */
  key(first: number, second: number): void {
    if (this.length + 11 > this.bytes.length) this.grow(11);
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = DIGITS[(first >>> 26) & 63] as number;
    bytes[at++] = DIGITS[(first >>> 20) & 63] as number;
    bytes[at++] = DIGITS[(first >>> 14) & 63] as number;
    bytes[at++] = DIGITS[(first >>> 8) & 63] as number;
    bytes[at++] = DIGITS[(first >>> 2) & 63] as number;
    bytes[at++] = DIGITS[((first << 4) | (second >>> 28)) & 63] as number;
    bytes[at++] = DIGITS[(second >>> 22) & 63] as number;
    bytes[at++] = DIGITS[(second >>> 16) & 63] as number;
    bytes[at++] = DIGITS[(second >>> 10) & 63] as number;
    bytes[at++] = DIGITS[(second >>> 4) & 63] as number;
    bytes[at++] = DIGITS[second & 15] as number;
    this.length = at;
  }

  /** A number as `${value}` writes it. */
  number(value: number): void {
    if (value >= 0 && value <= 0x7fffffff && value === (value | 0)) {
      // Digits by hand (as int32 arithmetic) for the usual counts, ranks and hours.
      if (this.length + 10 > this.bytes.length) this.grow(10);
      const bytes = this.bytes;
      if (value < 10) {
        bytes[this.length] = 48 + value;
        this.length += 1;
        return;
      }
      const digits = value < 100 ? 2 : value < 1000 ? 3 : value < 10000 ? 4 : value < 100000 ? 5 : value < 1000000 ? 6 : value < 10000000 ? 7 : value < 100000000 ? 8 : value < 1000000000 ? 9 : 10;
      let at = this.length + digits;
      this.length = at;
      let rest = value | 0;
      do {
        const next = (rest / 10) | 0;
        at -= 1;
        bytes[at] = 48 + rest - next * 10;
        rest = next;
      } while (rest > 0);
      return;
    }
    this.ascii(`${value}`);
  }

  /** Text known to be ASCII (a number's text). */
  ascii(text: string): void {
    if (this.length + text.length > this.bytes.length) this.grow(text.length);
    this.length += this.bytes.write(text, this.length, 'latin1');
  }

  private grow(more: number): void {
    const bytes = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + more));
    this.bytes.copy(bytes, 0, 0, this.length);
    this.bytes = bytes;
  }
}
