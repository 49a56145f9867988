/**
 * A response key or variant as 64 bits (two independent 32-bit hashes, FNV-1a
 * and a Murmur-style mix), 11 characters of [0-9A-Za-z_-]. Ids are 30-odd
 * characters, so this more than halves the state; the chance that two of a
 * million responses collide (and one is taken for a copy of the other) is
 * below 1e-7.
 */
export function hashKey(text: string): string {
  hashKeyInto(text, SCRATCH);
  return keyText(SCRATCH[0] as number, SCRATCH[1] as number);
}

/** hashKey() as its two 32-bit halves, written into `into` (what keyText() turns into the text): no string made. */
export function hashKeyInto(text: string, into: Uint32Array): void {
  let first = 0x811c9dc5;
  let second = 0x9747b28c ^ text.length;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x5bd1e995);
    second ^= second >>> 13;
  }
  second = Math.imul(second ^ (second >>> 15), 0x85ebca6b);
  second ^= second >>> 16;
  into[0] = first;
  into[1] = second;
}

/** The 11 characters of a hashed key from its halves. */
export function keyText(first: number, second: number): string {
  // Six bits a character by table: Number#toString(36) costs more than the hash.
  return String.fromCharCode(
    DIGITS[(first >>> 26) & 63] as number,
    DIGITS[(first >>> 20) & 63] as number,
    DIGITS[(first >>> 14) & 63] as number,
    DIGITS[(first >>> 8) & 63] as number,
    DIGITS[(first >>> 2) & 63] as number,
    DIGITS[((first << 4) | (second >>> 28)) & 63] as number,
    DIGITS[(second >>> 22) & 63] as number,
    DIGITS[(second >>> 16) & 63] as number,
    DIGITS[(second >>> 10) & 63] as number,
    DIGITS[(second >>> 4) & 63] as number,
    DIGITS[second & 15] as number,
  );
}

/**
 * A hashed key's text back to its halves (into `into`); false when the text is
 * not one (11 characters of the alphabet, the last one of the first 16).
 */
export function parseKeyText(text: string, into: Uint32Array): boolean {
  if (text.length !== 11) return false;
  let first = 0;
  let second = 0;
  for (let index = 0; index < 11; index += 1) {
    const code = text.charCodeAt(index);
    const value = code < 128 ? (VALUES[code] as number) : -1;
    if (value < 0 || (index === 10 && value > 15)) return false;
    if (index < 5) first = (first << 6) | value;
    else if (index === 5) {
      first = (first << 2) | (value >>> 4);
      second = value & 15;
    } else if (index < 10) second = (second << 6) | value;
    else second = (second << 4) | value;
  }
  into[0] = first;
  into[1] = second;
  return true;
}

/** FNV-1a over the 11 characters of keyText(first, second), without making the text: the ledger's index shard of a key. */
export function keyTextHash(first: number, second: number): number {
  let hash = 0x811c9dc5;
  hash = Math.imul(hash ^ (DIGITS[(first >>> 26) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(first >>> 20) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(first >>> 14) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(first >>> 8) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(first >>> 2) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[((first << 4) | (second >>> 28)) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(second >>> 22) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(second >>> 16) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(second >>> 10) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[(second >>> 4) & 63] as number), 0x01000193);
  hash = Math.imul(hash ^ (DIGITS[second & 15] as number), 0x01000193);
  return hash >>> 0;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-';
const DIGITS = Uint8Array.from(ALPHABET, (character) => character.charCodeAt(0));
const VALUES = Int8Array.from({ length: 128 }, (_, code) => ALPHABET.indexOf(String.fromCharCode(code)));
const SCRATCH = new Uint32Array(2);
