/**
 * The iterator shape shared by blocks, tables, memtables and the merging iterators. All methods
 * are synchronous: blocks come from the cache or a readSync, so a seek never yields the loop.
 *
 * key() and value() return arrays the iterator never mutates afterwards (they may be views into an
 * immutable block), so a caller may keep them without copying; callers must not mutate them.
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
