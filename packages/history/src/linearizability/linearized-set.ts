/**
 * The set of operations a search has linearized, by invocation rank (0 = invoked first).
 *
 * Represented as "every rank below `k`, except those in `u`". The search can only linearize an
 * operation invoked before the first pending completion, and an operation below `k` that is not
 * linearized must still be pending (or be `info`, pending forever), so `u` stays about as large
 * as the concurrency plus the `info` operations, while a bitset would grow with the history and
 * make every memoised state cost O(n) memory.
 *
 * A Zobrist hash (XOR of a fixed random word per rank) is kept up to date in O(1) per change.
 */
export class LinearizedSet {
  k = 0;
  hash = 0;
  /** Members of `u`, unordered, in `list[0..size)`; `pos[r]` is r's index there or -1. */
  readonly list: Int32Array;
  readonly pos: Int32Array;
  size = 0;
  readonly #zobrist: Int32Array;

  constructor(n: number) {
    this.list = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.#zobrist = new Int32Array(n);
    let s = 0x9e3779b9 | 0;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      this.#zobrist[i] = s;
    }
  }

  /** Adds rank `r` (not a member); returns the `k` to pass back to `remove`. */
  add(r: number): number {
    const prevK = this.k;
    this.hash ^= this.#zobrist[r]!;
    if (r >= prevK) {
      for (let j = prevK; j < r; j++) this.#uAdd(j);
      this.k = r + 1;
    } else {
      this.#uRemove(r);
    }
    return prevK;
  }

  /** Undoes the `add(r)` that returned `prevK`; adds and removes must nest like a stack. */
  remove(r: number, prevK: number): void {
    this.hash ^= this.#zobrist[r]!;
    if (prevK <= r) {
      for (let j = r - 1; j >= prevK; j--) this.#uRemove(j);
      this.k = prevK;
    } else {
      this.#uAdd(r);
    }
  }

  /** Whether rank `r` is in `u` (below `k` and not linearized). */
  isHole(r: number): boolean {
    return this.pos[r]! >= 0;
  }

  #uAdd(r: number): void {
    this.pos[r] = this.size;
    this.list[this.size++] = r;
  }

  #uRemove(r: number): void {
    const i = this.pos[r]!;
    const last = this.list[--this.size]!;
    this.list[i] = last;
    this.pos[last] = i;
    this.pos[r] = -1;
  }
}
