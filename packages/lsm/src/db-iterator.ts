/**
 * The public iterator: an ordered walk over a key range of a consistent state (the database as
 * of the iterator's creation, or a snapshot), forward or reverse.
 *
 * Stepping is synchronous inside (memtables, cached blocks, readSync); `for await` additionally
 * yields to the event loop about every millisecond so a long scan does not starve other work.
 * Returned keys and values are fresh copies owned by the caller.
 */

import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { copyBytes } from "./copy-bytes.js";
import { ClosedError, InvalidArgumentError } from "./errors.js";
import { TRAILER_BYTES } from "./internal-key.js";
import type { SequenceIterator } from "./iterator/sequence-iterator.js";
import type { Snapshot } from "./snapshot.js";
import { compareBytes } from "./util/index.js";

/** A key and its value (Node Buffers owned by the caller). */
export type Entry = [key: Buffer, value: Buffer];

export interface IteratorOptions {
  /** Only keys > gt. */
  gt?: Uint8Array;
  /** Only keys >= gte. */
  gte?: Uint8Array;
  /** Only keys < lt. */
  lt?: Uint8Array;
  /** Only keys <= lte. */
  lte?: Uint8Array;
  /** Only keys starting with these bytes (combined with the bounds above). */
  prefix?: Uint8Array;
  /** Largest key first. @default false */
  reverse?: boolean;
  /** Stop after this many entries. @default Infinity */
  limit?: number;
  /** Iterate the state of this snapshot instead of the current one. */
  snapshot?: Snapshot;
  /** Put blocks read by this iterator in the block cache (false for one-off scans). @default true */
  fillCache?: boolean;
}

interface Bound {
  key: Uint8Array;
  inclusive: boolean;
}

/** Smallest key greater than every key with this prefix, or undefined (all 0xff). */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = copyBytes(prefix, 0, i + 1);
      out[i]! += 1;
      return out;
    }
  }
  return undefined;
}

function checkBound(name: string, v: unknown): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) {
    throw new InvalidArgumentError(`iterator option ${name} must be a Uint8Array or Buffer`);
  }
  return v;
}

function tighterLower(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = compareBytes(a.key, b.key);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

function tighterUpper(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = compareBytes(a.key, b.key);
  if (c !== 0) return c < 0 ? a : b;
  return a.inclusive ? b : a;
}

/**
 * @internal The database's side of an open iterator. It must not reference the DbIterator, so
 * that an iterator dropped without close() can be collected.
 */
export interface IteratorLink {
  /** Set when the database closed under the iterator (it then fails on use). */
  dbClosed: boolean;
  /** Called once when the iterator is closed while the database is open. */
  onClose(): void;
  /** Throws if the database is closed or closing. */
  checkDbOpen(): void;
}

export class DbIterator implements AsyncIterable<Entry>, Iterable<Entry> {
  private readonly lower: Bound | undefined;
  private readonly upper: Bound | undefined;
  private readonly reverse: boolean;
  private readonly limit: number;
  private count = 0;
  private needsPosition = true;
  private atPending = false;
  private done = false;
  private closed = false;

  /** @internal created by Db.iterator() */
  constructor(
    private readonly inner: SequenceIterator,
    options: IteratorOptions,
    private readonly link: IteratorLink,
    /**
     * @internal Held only here: the database's finalizer watches it to release what an
     * iterator dropped without close() pinned.
     */
    readonly finalizationToken: object,
  ) {
    const gt = checkBound("gt", options.gt);
    const gte = checkBound("gte", options.gte);
    const lt = checkBound("lt", options.lt);
    const lte = checkBound("lte", options.lte);
    const prefix = checkBound("prefix", options.prefix);
    let lower = tighterLower(
      gt === undefined ? undefined : { key: copyBytes(gt), inclusive: false },
      gte === undefined ? undefined : { key: copyBytes(gte), inclusive: true },
    );
    let upper = tighterUpper(
      lt === undefined ? undefined : { key: copyBytes(lt), inclusive: false },
      lte === undefined ? undefined : { key: copyBytes(lte), inclusive: true },
    );
    if (prefix !== undefined && prefix.length > 0) {
      lower = tighterLower(lower, { key: copyBytes(prefix), inclusive: true });
      const succ = prefixSuccessor(prefix);
      if (succ !== undefined) upper = tighterUpper(upper, { key: succ, inclusive: false });
    }
    this.lower = lower;
    this.upper = upper;
    this.reverse = options.reverse === true;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (typeof limit !== "number" || Number.isNaN(limit) || limit < 0) {
      throw new InvalidArgumentError("iterator option limit must be a number >= 0");
    }
    this.limit = limit;
  }

  private check(): void {
    if (this.link.dbClosed) throw new ClosedError("iterator used after its database was closed");
    if (this.closed) throw new ClosedError("iterator used after close()");
    this.link.checkDbOpen();
  }

  /** Places the inner iterator on the first entry to return, honouring `target` if given. */
  private position(target: Uint8Array | undefined): void {
    const it = this.inner;
    if (!this.reverse) {
      let lo = this.lower;
      if (target !== undefined) lo = tighterLower(lo, { key: target, inclusive: true });
      if (lo === undefined) {
        it.seekToFirst();
      } else {
        it.seek(lo.key);
        if (!lo.inclusive && it.valid() && it.compareKey(lo.key) === 0) it.next();
      }
    } else {
      let hi = this.upper;
      if (target !== undefined) hi = tighterUpper(hi, { key: target, inclusive: true });
      if (hi === undefined) {
        it.seekToLast();
      } else {
        it.seek(hi.key);
        if (it.valid()) {
          const c = it.compareKey(hi.key);
          if (c > 0 || (c === 0 && !hi.inclusive)) it.prev();
        } else {
          it.seekToLast();
        }
      }
    }
    this.needsPosition = false;
    this.atPending = true;
  }

  private inRange(): boolean {
    if (!this.reverse) {
      const u = this.upper;
      if (u === undefined) return true;
      const c = this.inner.compareKey(u.key);
      return c < 0 || (c === 0 && u.inclusive);
    }
    const l = this.lower;
    if (l === undefined) return true;
    const c = this.inner.compareKey(l.key);
    return c > 0 || (c === 0 && l.inclusive);
  }

  /** The next entry, or undefined at the end of the range. Synchronous. */
  nextSync(): Entry | undefined {
    this.check();
    if (this.done) return undefined;
    const it = this.inner;
    if (this.needsPosition) this.position(undefined);
    else if (!this.atPending) {
      if (this.reverse) it.prev();
      else it.next();
    }
    this.atPending = false;
    if (!it.valid() || this.count >= this.limit) return this.finish();
    if (!this.inRange()) return this.finish();
    this.count++;
    const ikey = it.internalKey();
    return [copyBytes(ikey, 0, ikey.length - TRAILER_BYTES), copyBytes(it.value())];
  }

  /** The next entry, or undefined at the end (abstract-level style). */
  next(): Promise<Entry | undefined> {
    try {
      return Promise.resolve(this.nextSync());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Repositions so that the next entry is the first >= target (reverse: last <= target) in range. */
  seek(target: Uint8Array): void {
    this.check();
    if (!(target instanceof Uint8Array)) {
      throw new InvalidArgumentError("seek target must be a Uint8Array or Buffer");
    }
    this.done = false;
    this.position(target);
  }

  /** All remaining entries (then closes). */
  async all(): Promise<Entry[]> {
    const out: Entry[] = [];
    for await (const e of this) out.push(e);
    return out;
  }

  private finish(): undefined {
    this.done = true;
    return undefined;
  }

  *[Symbol.iterator](): Generator<Entry, void, undefined> {
    try {
      for (;;) {
        const e = this.nextSync();
        if (e === undefined) return;
        yield e;
      }
    } finally {
      void this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Entry, void, undefined> {
    try {
      let t0 = performance.now();
      for (;;) {
        const e = this.nextSync();
        if (e === undefined) return;
        yield e;
        if (performance.now() - t0 >= 1) {
          await yieldToLoop();
          t0 = performance.now();
        }
      }
    } finally {
      await this.close();
    }
  }

  /** Releases the files and memtables the iterator pins. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.done = true;
      // After the database closed, it has closed the inner iterator itself.
      if (!this.link.dbClosed) {
        this.inner.close();
        this.link.onClose();
      }
    }
    return Promise.resolve();
  }
}
