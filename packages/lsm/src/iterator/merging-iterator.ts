/**
 * Merges sorted child iterators into one sorted stream, forward and backward (leveldb's
 * MergingIterator, with a heap as in RocksDB): the valid children sit in a binary heap ordered
 * by their current key (a min-heap going forward, a max-heap going backward), so a step costs
 * O(log n) comparisons; compactions of many L0 files and lookups over many levels stay cheap.
 *
 * Duplicate keys across children cannot occur for internal keys (sequence numbers are unique);
 * if they did (a table and the memtable it was flushed from, for an instant), both are returned
 * one after the other, which the sequence iterator above tolerates.
 */

import type { Comparator, InternalIterator } from "./types.js";

export class MergingIterator implements InternalIterator {
  /** Indices into children of the valid ones, as a heap. */
  private readonly heap: number[] = [];
  /** Current key of each valid child (key() of a table iterator is not free to call). */
  private readonly keys: (Uint8Array | undefined)[];
  private forward = true;

  constructor(
    private readonly compare: Comparator,
    private readonly children: InternalIterator[],
  ) {
    this.keys = new Array<Uint8Array | undefined>(children.length).fill(undefined);
  }

  valid(): boolean {
    return this.heap.length > 0;
  }

  seekToFirst(): void {
    for (const c of this.children) c.seekToFirst();
    this.forward = true;
    this.rebuild();
  }

  seekToLast(): void {
    for (const c of this.children) c.seekToLast();
    this.forward = false;
    this.rebuild();
  }

  seek(target: Uint8Array): void {
    for (const c of this.children) c.seek(target);
    this.forward = true;
    this.rebuild();
  }

  next(): void {
    const top = this.heap[0]!;
    const cur = this.children[top]!;
    if (!this.forward) {
      // Every other child is positioned before key(); move them to the first entry after it.
      const k = this.keys[top]!;
      for (let i = 0; i < this.children.length; i++) {
        if (i === top) continue;
        const c = this.children[i]!;
        c.seek(k);
        if (c.valid() && this.compare(k, c.key()) === 0) c.next();
      }
      this.forward = true;
      cur.next();
      this.rebuild();
      return;
    }
    cur.next();
    this.fixTop();
  }

  prev(): void {
    const top = this.heap[0]!;
    const cur = this.children[top]!;
    if (this.forward) {
      // Every other child is at or after key(); move them to the last entry before it.
      const k = this.keys[top]!;
      for (let i = 0; i < this.children.length; i++) {
        if (i === top) continue;
        const c = this.children[i]!;
        c.seek(k);
        if (c.valid()) c.prev();
        else c.seekToLast();
      }
      this.forward = false;
      cur.prev();
      this.rebuild();
      return;
    }
    cur.prev();
    this.fixTop();
  }

  key(): Uint8Array {
    return this.keys[this.heap[0]!]!;
  }

  value(): Uint8Array {
    return this.children[this.heap[0]!]!.value();
  }

  close(): void {
    for (const c of this.children) c.close?.();
    this.heap.length = 0;
  }

  /** True if child a should be above child b in the heap. */
  private before(a: number, b: number): boolean {
    const c = this.compare(this.keys[a]!, this.keys[b]!);
    // Ties (never for internal keys) go to the lower index: newer sources come first.
    if (c === 0) return a < b;
    return this.forward ? c < 0 : c > 0;
  }

  private rebuild(): void {
    const h = this.heap;
    h.length = 0;
    for (let i = 0; i < this.children.length; i++) {
      const c = this.children[i]!;
      if (c.valid()) {
        h.push(i);
        this.keys[i] = c.key();
      } else {
        this.keys[i] = undefined;
      }
    }
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The top child moved: drop it if exhausted, else restore the heap order. */
  private fixTop(): void {
    const h = this.heap;
    const top = h[0]!;
    const c = this.children[top]!;
    if (!c.valid()) {
      this.keys[top] = undefined;
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    } else {
      this.keys[top] = c.key();
    }
    if (h.length > 1) this.siftDown(0);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[child]!, x)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = x;
  }
}

/** An iterator over nothing. */
export class EmptyIterator implements InternalIterator {
  valid(): boolean {
    return false;
  }
  seekToFirst(): void {}
  seekToLast(): void {}
  seek(): void {}
  next(): void {}
  prev(): void {}
  key(): Uint8Array {
    throw new Error("EmptyIterator has no key");
  }
  value(): Uint8Array {
    throw new Error("EmptyIterator has no value");
  }
}
