/**
 * A growable byte buffer for building blocks, WAL fragments, manifest records and batches.
 * Grows by doubling so that appends are amortised O(1).
 */

import {
  encodeFixed32,
  encodeFixed64,
  encodeVarint32,
  encodeVarint64,
  MAX_VARINT32_BYTES,
  MAX_VARINT64_BYTES,
} from "./coding.js";

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  /** @param initial a capacity to allocate, or a buffer to write into (and grow from). */
  constructor(initial: number | Uint8Array = 256) {
    this.buf = typeof initial === "number" ? new Uint8Array(Math.max(16, initial)) : initial;
  }

  /** The buffer written into (a different one after a write outgrew the last). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  putU8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  putFixed32(v: number): this {
    this.ensure(4);
    this.len = encodeFixed32(this.buf, this.len, v);
    return this;
  }

  putFixed64(v: number): this {
    this.ensure(8);
    this.len = encodeFixed64(this.buf, this.len, v);
    return this;
  }

  putVarint32(v: number): this {
    this.ensure(MAX_VARINT32_BYTES);
    this.len = encodeVarint32(this.buf, this.len, v);
    return this;
  }

  putVarint64(v: number): this {
    this.ensure(MAX_VARINT64_BYTES);
    this.len = encodeVarint64(this.buf, this.len, v);
    return this;
  }

  /** Appends src[start, end). */
  putBytes(src: Uint8Array, start = 0, end: number = src.length): this {
    const n = end - start;
    this.ensure(n);
    if (n < 32) {
      // A short loop beats TypedArray.set's call overhead for the tiny keys we mostly copy.
      const b = this.buf;
      let j = this.len;
      for (let i = start; i < end; i++) b[j++] = src[i]!;
    } else {
      this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.len);
    }
    this.len += n;
    return this;
  }

  /** varint32 length, then the bytes. */
  putLengthPrefixed(src: Uint8Array): this {
    this.putVarint32(src.length);
    return this.putBytes(src);
  }

  /** Overwrites 4 bytes at `offset` (which must already be written). */
  setFixed32(offset: number, v: number): void {
    encodeFixed32(this.buf, offset, v);
  }

  /** A view of the bytes written; valid until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Forgets the contents but keeps the capacity. */
  reset(): void {
    this.len = 0;
  }

  /** Drops everything after the first `n` bytes. */
  truncate(n: number): void {
    if (n < this.len) this.len = n;
  }
}
