/**
 * The iterator shape shared by blocks, tables, memtables and the merging iterators. All methods
 * are synchronous: blocks come from the cache or a readSync, so a seek never yields the loop.
 *
 * key() returns an array the iterator never mutates afterwards, so a caller may keep it without
 * copying. value() may be a view into a table block or a memtable arena: it stays valid while the
 * iterator stays on its entry's block, and a table iterator that fills the block cache releases
 * the block when it moves on (the cache may then reuse the memory), so a caller that keeps a
 * value past a move copies it. Callers must not mutate either.
 * key()/value() on an invalid iterator are undefined behaviour (they may throw).
 */
export interface InternalIterator {
  valid(): boolean;
  seekToFirst(): void;
  seekToLast(): void;
  /** Positions at the first entry with key >= target (invalid if none). */
  seek(target: Uint8Array): void;
  next(): void;
  prev(): void;
  key(): Uint8Array;
  value(): Uint8Array;
  /** Releases resources; the iterator must not be used afterwards. */
  close?(): void;
}

/** Total order over keys: negative if a < b, 0 if equal, positive if a > b. */
export type Comparator = (a: Uint8Array, b: Uint8Array) => number;
