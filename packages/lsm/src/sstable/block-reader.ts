/**
 * Reads a block written by BlockBuilder: forward and backward iteration, and seek by binary
 * search over the restart points followed by a short linear scan.
 *
 * Keys returned by key() are fresh arrays, never mutated afterwards; values are views into the
 * (immutable) block.
 * Malformed entries throw CorruptionError naming the file and the entry's offset in the file.
 *
 * One iterator can be pointed at another block with reset(): table iterators and point lookups
 * reuse theirs, so moving to a block allocates nothing (a fresh iterator costs its scratch key
 * buffer and the views of it).
 */

import { CorruptionError } from "../errors.js";
import type { Comparator, InternalIterator } from "../iterator/types.js";
import { decodeFixed32 } from "../util/coding.js";

/** Checks a block's restart array and returns where the restart array starts. */
export function blockRestartsOffset(data: Uint8Array, file: string, fileOffset: number): number {
  if (data.length < 4) throw new CorruptionError(file, fileOffset, "block too short");
  const n = decodeFixed32(data, data.length - 4);
  const start = data.length - 4 - n * 4;
  if (n === 0 || start < 0) {
    throw new CorruptionError(
      file,
      fileOffset,
      `bad restart count ${n} in a block of ${data.length}`,
    );
  }
  return start;
}

export class BlockIterator implements InternalIterator {
  private data: Uint8Array;
  private file: string;
  private fileOffset: number;
  private restartsOffset: number;
  private numRestarts: number;
  /** Offset of the current entry; equal to restartsOffset when invalid. */
  private current: number;
  /** Offset just past the current entry. */
  private nextOffset: number;
  private restartIndex = 0;
  // The current key is rebuilt in a scratch buffer (prefix compression), compared through a
  // cached view of it, and copied out only when key() is called: a seek that scans 8 entries
  // then allocates one key instead of eight. The buffer is larger than 64 bytes so that V8
  // allocates it off-heap from the start (a view of a small on-heap array moves it first).
  private kbuf: Uint8Array = new Uint8Array(128);
  private klen = 0;
  private views: (Uint8Array | undefined)[] = [];
  private keyCopy: Uint8Array | undefined;
  private valStart = 0;
  private valEnd = 0;

  constructor(
    data: Uint8Array,
    private readonly compare: Comparator,
    /** For error messages: the file and the block's offset in it. */
    file = "<block>",
    fileOffset = 0,
  ) {
    this.data = data;
    this.file = file;
    this.fileOffset = fileOffset;
    this.restartsOffset = blockRestartsOffset(data, file, fileOffset);
    this.numRestarts = (data.length - 4 - this.restartsOffset) / 4;
    this.current = this.restartsOffset;
    this.nextOffset = this.restartsOffset;
  }

  /** Points the iterator at another block (same comparator); it is left unpositioned. */
  reset(data: Uint8Array, file: string, fileOffset: number): void {
    const restarts = blockRestartsOffset(data, file, fileOffset);
    this.data = data;
    this.file = file;
    this.fileOffset = fileOffset;
    this.restartsOffset = restarts;
    this.numRestarts = (data.length - 4 - restarts) / 4;
    this.current = restarts;
    this.nextOffset = restarts;
    this.restartIndex = 0;
    this.klen = 0;
    this.keyCopy = undefined;
  }

  valid(): boolean {
    return this.current < this.restartsOffset;
  }

  key(): Uint8Array {
    let k = this.keyCopy;
    if (k === undefined) {
      k = this.kbuf.slice(0, this.klen);
      this.keyCopy = k;
    }
    return k;
  }

  value(): Uint8Array {
    return this.data.subarray(this.valStart, this.valEnd);
  }

  /**
   * A view of the current key in the scratch buffer, valid only until the iterator moves or is
   * reset: for callers that inspect the key and drop it (point lookups), saving key()'s copy.
   */
  keyView(): Uint8Array {
    const n = this.klen;
    let v = this.views[n];
    if (v === undefined) {
      v = this.kbuf.subarray(0, n);
      this.views[n] = v;
    }
    return v;
  }

  private restartPoint(i: number): number {
    const off = decodeFixed32(this.data, this.restartsOffset + i * 4);
    if (off >= this.restartsOffset && !(off === 0 && this.restartsOffset === 0)) {
      this.corrupt(this.restartsOffset + i * 4, `restart point ${off} out of range`);
    }
    return off;
  }

  private corrupt(at: number, reason: string): never {
    this.current = this.restartsOffset;
    this.nextOffset = this.restartsOffset;
    throw new CorruptionError(this.file, this.fileOffset + at, reason);
  }

  /** Decodes the entry at `p` (the scratch key holds the previous key); moves onto it. */
  private parseEntry(p: number): void {
    const d = this.data;
    const limit = this.restartsOffset;
    const start = p;
    // Three varint32s; the common case is one byte each.
    let shared = d[p++]!;
    if (shared >= 0x80) {
      p = slowVarint(d, p - 1, limit);
      if (p < 0) this.corrupt(start, "bad varint in block entry");
      shared = varintValue;
    }
    let unshared = d[p++]!;
    if (unshared >= 0x80) {
      p = slowVarint(d, p - 1, limit);
      if (p < 0) this.corrupt(start, "bad varint in block entry");
      unshared = varintValue;
    }
    let vlen = d[p++]!;
    if (vlen >= 0x80) {
      p = slowVarint(d, p - 1, limit);
      if (p < 0) this.corrupt(start, "bad varint in block entry");
      vlen = varintValue;
    }
    if (!(p <= limit && shared <= this.klen && p + unshared + vlen <= limit)) {
      this.corrupt(start, "bad entry in block");
    }
    this.loadKey(d, p, shared, unshared);
    p += unshared;
    this.current = start;
    this.valStart = p;
    this.valEnd = p + vlen;
    this.nextOffset = p + vlen;
  }

  /** Sets the scratch key to its first `shared` bytes followed by d[p, p + unshared). */
  private loadKey(d: Uint8Array, p: number, shared: number, unshared: number): void {
    const n = shared + unshared;
    if (n > this.kbuf.length) {
      const next = new Uint8Array(Math.max(n, this.kbuf.length * 2));
      next.set(this.kbuf.subarray(0, shared));
      this.kbuf = next;
      this.views = [];
    }
    const k = this.kbuf;
    if (unshared < 32) {
      for (let i = 0; i < unshared; i++) k[shared + i] = d[p + i]!;
    } else {
      k.set(d.subarray(p, p + unshared), shared);
    }
    this.klen = n;
    this.keyCopy = undefined;
  }

  private seekToRestart(i: number): void {
    this.restartIndex = i;
    this.nextOffset = this.restartPoint(i);
    this.klen = 0;
  }

  /** Moves to the entry at nextOffset; returns false (and invalidates) at the end. */
  private parseNext(): boolean {
    const p = this.nextOffset;
    if (p >= this.restartsOffset) {
      this.current = this.restartsOffset;
      return false;
    }
    this.parseEntry(p);
    while (
      this.restartIndex + 1 < this.numRestarts &&
      this.restartPoint(this.restartIndex + 1) <= this.current
    ) {
      this.restartIndex++;
    }
    return true;
  }

  seekToFirst(): void {
    this.seekToRestart(0);
    this.parseNext();
  }

  seekToLast(): void {
    this.seekToRestart(this.numRestarts - 1);
    while (this.parseNext() && this.nextOffset < this.restartsOffset) {
      // Walk to the last entry.
    }
  }

  next(): void {
    this.parseNext();
  }

  prev(): void {
    const original = this.current;
    // Find the last restart point strictly before the current entry.
    let i = this.restartIndex;
    while (this.restartPoint(i) >= original) {
      if (i === 0) {
        this.current = this.restartsOffset;
        this.nextOffset = this.restartsOffset;
        return;
      }
      i--;
    }
    this.seekToRestart(i);
    // Walk forward to the entry just before `original`.
    while (this.parseNext() && this.nextOffset < original) {
      // keep going
    }
  }

  seek(target: Uint8Array): void {
    // Binary search for the last restart point whose key is < target.
    let lo = 0;
    let hi = this.numRestarts - 1;
    const d = this.data;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const off = this.restartPoint(mid);
      const limit = this.restartsOffset;
      let p = off + 1;
      // Restart keys are stored whole, so the first varint (shared) must be the single byte 0.
      const shared = d[off]!;
      let unshared = d[p++]!;
      if (unshared >= 0x80) {
        p = slowVarint(d, p - 1, limit);
        unshared = varintValue;
      }
      let vlen = p < 0 ? 0 : d[p++]!;
      if (vlen >= 0x80) {
        p = slowVarint(d, p - 1, limit);
        vlen = varintValue;
      }
      if (shared !== 0 || p < 0 || !(p + unshared + vlen <= limit)) {
        this.corrupt(off, "bad restart entry in block");
      }
      // Compare through the scratch buffer rather than a fresh view of the block per probe.
      this.loadKey(d, p, 0, unshared);
      if (this.compare(this.keyView(), target) < 0) lo = mid;
      else hi = mid - 1;
    }
    this.seekToRestart(lo);
    while (this.parseNext()) {
      if (this.compare(this.keyView(), target) >= 0) return;
    }
  }
}

// Result slot of slowVarint, to decode without allocating.
let varintValue = 0;

/** Decodes a multi-byte varint32 at p; sets varintValue and returns the next offset, or -1. */
function slowVarint(d: Uint8Array, p: number, limit: number): number {
  let v = 0;
  for (let shift = 0; shift <= 28 && p < limit; shift += 7) {
    const b = d[p++]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) {
      varintValue = v >>> 0;
      return p;
    }
  }
  return -1;
}
