import { keyText, keyTextHash } from './hash-key';

/**
 * The hashed response keys a ledger has met, each given a number (0, 1, …)
 * by an open-addressed table over its two 32-bit halves: the ledger's maps
 * and arrays are keyed by that number, and a key's text (hashKey's 11
 * characters, as the state stores it) is made only when it is written.
 */
export class KeyTable {
  private size = 0;
  private firsts = new Uint32Array(1024);
  private seconds = new Uint32Array(1024);
  /** The index shard of each key (the ledger's FNV-1a of its text, modulo the shard count). */
  private shards = new Uint16Array(1024);
  /** Key number + 1 per slot, 0 for an empty slot; twice as many slots as keys at most. */
  private slots = new Int32Array(2048);

  constructor(private readonly shardCount: number) {}

  get count(): number {
    return this.size;
  }

  /** The key's number, given it now if it has none. */
  idOf(first: number, second: number): number {
    const mask = this.slots.length - 1;
    for (let slot = mix(first, second) & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot] as number;
      if (held === 0) {
        const id = this.size;
        if ((id + 1) * 2 > this.slots.length) {
          this.grow();
          return this.idOf(first, second);
        }
        this.firsts[id] = first;
        this.seconds[id] = second;
        this.shards[id] = keyTextHash(first, second) % this.shardCount;
        this.slots[slot] = id + 1;
        this.size = id + 1;
        return id;
      }
      if (this.firsts[held - 1] === first >>> 0 && this.seconds[held - 1] === second >>> 0) return held - 1;
    }
  }

  /** The key's number, or -1. */
  find(first: number, second: number): number {
    const mask = this.slots.length - 1;
    for (let slot = mix(first, second) & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot] as number;
      if (held === 0) return -1;
      if (this.firsts[held - 1] === first >>> 0 && this.seconds[held - 1] === second >>> 0) return held - 1;
    }
  }

  first(id: number): number {
    return this.firsts[id] as number;
  }

  second(id: number): number {
    return this.seconds[id] as number;
  }

  shard(id: number): number {
    return this.shards[id] as number;
  }

  text(id: number): string {
    return keyText(this.firsts[id] as number, this.seconds[id] as number);
  }

  private grow(): void {
    const capacity = this.firsts.length * 2;
    const firsts = new Uint32Array(capacity);
    firsts.set(this.firsts);
    this.firsts = firsts;
    const seconds = new Uint32Array(capacity);
    seconds.set(this.seconds);
    this.seconds = seconds;
    const shards = new Uint16Array(capacity);
    shards.set(this.shards);
    this.shards = shards;
    const slots = new Int32Array(capacity * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id += 1) {
      let slot = mix(this.firsts[id] as number, this.seconds[id] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}

// The halves are hashes already; a multiply spreads the low bits the mask keeps.
function mix(first: number, second: number): number {
  const hash = Math.imul(first ^ Math.imul(second, 0x9e3779b1), 0x85ebca6b);
  return (hash ^ (hash >>> 15)) >>> 0;
}
