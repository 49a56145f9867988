import type { AsciiWriter } from './ascii-writer';
import { keyText } from './hash-key';
import { TOKEN_VECTOR_LENGTH, type TokenVector } from './token-vector';

const LOOSE = 1;
const HAS_VARIANT = 2;
const COMMA = 44;
const DIGIT_ZERO = 48;
const DIGIT_ONE = 49;

/**
 * The copies of responses a ledger counts, column by column: a copy is a
 * number (its row), not an object. A cold scan keeps a hundred thousand of
 * them until the end; as objects (with a counters array and two key strings
 * each) they were most of what the young-generation collector had to copy,
 * and copy again, while the scan ran. The columns are typed arrays (outside
 * the collected heap); only the counters text read back from the state is a
 * string.
 */
export class CopyTable {
  private size = 0;
  private capacity = 0;
  /** The counters as the state stored them, so a copy read back is written back as it was; undefined for a new copy. */
  private readonly storedCounters: Array<string | undefined> = [];
  /** For a copy read back: its stored text up to its cell (`key,variant,loose,rank,`), which nothing changes. */
  private readonly storedHeads: Array<string | undefined> = [];
  /** LOOSE | HAS_VARIANT. */
  private flags = new Uint8Array(0);
  /** The variant's hash (hashKeyInto), two halves per copy. */
  private variants = new Uint32Array(0);
  private ranks = new Float64Array(0);
  private cells = new Int32Array(0);
  /** TOKEN_VECTOR_LENGTH per copy; NaN for null. */
  private tokens = new Float64Array(0);

  get count(): number {
    return this.size;
  }

  /**
   * A new copy, its tokens from `tokens` at `tokensAt` (NaN or null for a
   * null; an array of TOKEN_VECTOR_LENGTH, or the numbers of encoded events).
   */
  add(
    loose: boolean,
    variant: { readonly first: number; readonly second: number } | undefined,
    rank: number,
    tokens: ArrayLike<number | null>,
    tokensAt: number,
    counters: string | undefined,
  ): number {
    const copy = this.next();
    this.storedCounters.push(counters);
    this.storedHeads.push(undefined);
    this.flags[copy] = (loose ? LOOSE : 0) | (variant ? HAS_VARIANT : 0);
    this.variants[copy * 2] = variant ? variant.first : 0;
    this.variants[copy * 2 + 1] = variant ? variant.second : 0;
    this.ranks[copy] = rank;
    const at = copy * TOKEN_VECTOR_LENGTH;
    for (let index = 0; index < TOKEN_VECTOR_LENGTH; index += 1) {
      const value = tokens[tokensAt + index];
      this.tokens[at + index] = value === null || value === undefined ? Number.NaN : value;
    }
    return copy;
  }

  /** Forgets a candidate that turned out a duplicate, if it is the copy added last (else its row stays, unused). */
  drop(copy: number): void {
    if (copy !== this.size - 1) return;
    this.size = copy;
    this.storedCounters.pop();
    this.storedHeads.pop();
  }

  /** Whether two copies are of one variant (both without one, or the same hash). */
  sameVariant(copy: number, other: number): boolean {
    const flags = (this.flags[copy] as number) & HAS_VARIANT;
    if (flags !== ((this.flags[other] as number) & HAS_VARIANT)) return false;
    return flags === 0 || (this.variants[copy * 2] === this.variants[other * 2] && this.variants[copy * 2 + 1] === this.variants[other * 2 + 1]);
  }

  /** Writes a new copy as the state stores it, after its key: `,variant,loose,rank,cell,counters` (cell renumbered); false, with nothing written, for a copy read back from the state. */
  write(writer: AsciiWriter, copy: number, cell: number): boolean {
    // A copy read back keeps its counters' text: the caller writes its hour as strings.
    if (this.storedCounters[copy] !== undefined) return false;
    const flags = this.flags[copy] as number;
    writer.byte(COMMA);
    if ((flags & HAS_VARIANT) !== 0) writer.key(this.variants[copy * 2] as number, this.variants[copy * 2 + 1] as number);
    writer.byte(COMMA);
    writer.byte((flags & LOOSE) !== 0 ? DIGIT_ONE : DIGIT_ZERO);
    writer.byte(COMMA);
    const rank = this.ranks[copy] as number;
    if (rank !== this.total(copy)) writer.number(rank);
    writer.byte(COMMA);
    writer.number(cell);
    writer.byte(COMMA);
    const at = copy * TOKEN_VECTOR_LENGTH;
    for (let index = 0; index < TOKEN_VECTOR_LENGTH; index += 1) {
      if (index > 0) writer.byte(COMMA);
      const value = this.tokens[at + index] as number;
      if (value === value) writer.number(value);
    }
    return true;
  }

  /** A copy read back from the state: its text up to its cell (`key,variant,loose,rank,`), if writing it again gives the same; undefined for a new copy. */
  storedHead(copy: number): string | undefined {
    return this.storedHeads[copy];
  }

  setStoredHead(copy: number, head: string): void {
    this.storedHeads[copy] = head;
  }

  /** The variant's text as the state stores it ('' for none). */
  variantText(copy: number): string {
    return ((this.flags[copy] as number) & HAS_VARIANT) === 0 ? '' : keyText(this.variants[copy * 2] as number, this.variants[copy * 2 + 1] as number);
  }

  loose(copy: number): boolean {
    return ((this.flags[copy] as number) & LOOSE) !== 0;
  }

  rank(copy: number): number {
    return this.ranks[copy] as number;
  }

  cell(copy: number): number {
    return this.cells[copy] as number;
  }

  setCell(copy: number, cell: number): void {
    this.cells[copy] = cell;
  }

  /** Adds the copy's tokens into `sum` (a column stays null while every addend is null, as addTokenVector). */
  addTokensTo(sum: TokenVector, copy: number): void {
    const at = copy * TOKEN_VECTOR_LENGTH;
    for (let index = 0; index < TOKEN_VECTOR_LENGTH; index += 1) {
      const value = this.tokens[at + index] as number;
      if (value === value) sum[index] = (sum[index] ?? 0) + value;
    }
  }

  /** input + output + cache reads + cache writes (tokenTotal). */
  total(copy: number): number {
    const at = copy * TOKEN_VECTOR_LENGTH;
    return orZero(this.tokens[at] as number) + orZero(this.tokens[at + 1] as number) + orZero(this.tokens[at + 2] as number) + orZero(this.tokens[at + 3] as number);
  }

  /** The counters as the state stores them (formatTokenVector): as read back, else formatted now, only for the copies written. */
  counters(copy: number): string {
    const stored = this.storedCounters[copy];
    if (stored !== undefined) return stored;
    const at = copy * TOKEN_VECTOR_LENGTH;
    const t = this.tokens;
    return `${text(t[at] as number)},${text(t[at + 1] as number)},${text(t[at + 2] as number)},${text(t[at + 3] as number)},${text(t[at + 4] as number)},${text(t[at + 5] as number)},${text(t[at + 6] as number)}`;
  }

  private next(): number {
    const copy = this.size;
    if (copy === this.capacity) {
      const capacity = Math.max(1024, this.capacity * 2);
      this.flags = grown(this.flags, new Uint8Array(capacity));
      this.variants = grown(this.variants, new Uint32Array(capacity * 2));
      this.ranks = grown(this.ranks, new Float64Array(capacity));
      this.cells = grown(this.cells, new Int32Array(capacity));
      this.tokens = grown(this.tokens, new Float64Array(capacity * TOKEN_VECTOR_LENGTH));
      this.capacity = capacity;
    }
    this.size = copy + 1;
    return copy;
  }
}

function grown<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(from: T, into: T): T {
  into.set(from as never);
  return into;
}

function orZero(value: number): number {
  return value === value ? value : 0;
}

function text(value: number): string {
  return value === value ? `${value}` : '';
}
