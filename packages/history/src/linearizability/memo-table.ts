import type { LinearizedSet } from "./linearized-set.js";

/**
 * Lowe's cache: the (linearized set, model state) pairs a search has visited, in flat typed
 * arrays (an object per state made garbage collection a third of the run time). Chained hash
 * table; each entry stores the state, `k`, the hash and its holes (`u`) in a shared pool, and
 * equality is exact (the hash only picks the chain).
 */
export class MemoTable {
  #heads: Int32Array;
  #mask: number;
  #state = new Int32Array(1024);
  #k = new Int32Array(1024);
  #hash = new Int32Array(1024);
  #next = new Int32Array(1024);
  #uOff = new Int32Array(1024);
  #uLen = new Int32Array(1024);
  #pool = new Int32Array(4096);
  #poolUsed = 0;
  size = 0;

  constructor() {
    this.#heads = new Int32Array(1024).fill(-1);
    this.#mask = 1023;
  }

  /** Records (set, state); false if it was already there. */
  add(set: LinearizedSet, state: number): boolean {
    const h = (set.hash ^ Math.imul(state + 1, 0x85ebca77) ^ Math.imul(set.k, 0xc2b2ae3d)) | 0;
    for (let e = this.#heads[h & this.#mask]!; e >= 0; e = this.#next[e]!) {
      if (
        this.#hash[e] !== h ||
        this.#state[e] !== state ||
        this.#k[e] !== set.k ||
        this.#uLen[e] !== set.size
      ) {
        continue;
      }
      const off = this.#uOff[e]!;
      const len = this.#uLen[e]!;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (!set.isHole(this.#pool[off + i]!)) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    this.#insert(h, set, state);
    return true;
  }

  #insert(h: number, set: LinearizedSet, state: number): void {
    const e = this.size++;
    if (e >= this.#state.length) this.#growEntries();
    if (this.#poolUsed + set.size > this.#pool.length) {
      const pool = new Int32Array(Math.max(this.#pool.length * 2, this.#poolUsed + set.size));
      pool.set(this.#pool);
      this.#pool = pool;
    }
    this.#state[e] = state;
    this.#k[e] = set.k;
    this.#hash[e] = h;
    this.#uOff[e] = this.#poolUsed;
    this.#uLen[e] = set.size;
    this.#pool.set(set.list.subarray(0, set.size), this.#poolUsed);
    this.#poolUsed += set.size;
    const b = h & this.#mask;
    this.#next[e] = this.#heads[b]!;
    this.#heads[b] = e;
    if (this.size > this.#heads.length * 0.75) this.#rehash();
  }

  #growEntries(): void {
    const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.#state = grow(this.#state);
    this.#k = grow(this.#k);
    this.#hash = grow(this.#hash);
    this.#next = grow(this.#next);
    this.#uOff = grow(this.#uOff);
    this.#uLen = grow(this.#uLen);
  }

  #rehash(): void {
    const heads = new Int32Array(this.#heads.length * 2).fill(-1);
    const mask = heads.length - 1;
    for (let e = 0; e < this.size; e++) {
      const b = this.#hash[e]! & mask;
      this.#next[e] = heads[b]!;
      heads[b] = e;
    }
    this.#heads = heads;
    this.#mask = mask;
  }
}
