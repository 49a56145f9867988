/**
 * A response key or variant as 64 bits (two independent 32-bit hashes, FNV-1a
 * and a Murmur-style mix), 11 characters of [0-9A-Za-z_-]. Ids are 30-odd
 * characters, so this more than halves the state; the chance that two of a
 * million responses collide (and one is taken for a copy of the other) is
 * below 1e-7.
 */
export function hashKey(text: string): string {
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

const DIGITS = Uint8Array.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-', (character) => character.charCodeAt(0));
