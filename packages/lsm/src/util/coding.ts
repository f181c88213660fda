/**
 * Little-endian fixed-width integers and leveldb varints. ON-DISK FORMAT: never change.
 *
 * 64-bit values are JavaScript numbers limited to Number.MAX_SAFE_INTEGER (2^53 - 1); that
 * covers every file size, offset and sequence number this engine produces.
 */

import { CorruptionError, InvalidArgumentError } from "../errors.js";

/** Largest value encodeVarint64/putFixed64 accept. */
export const MAX_UINT53 = Number.MAX_SAFE_INTEGER;
/** A varint32 is at most 5 bytes, a varint64 at most 10 (8 suffice for 2^53). */
export const MAX_VARINT32_BYTES = 5;
export const MAX_VARINT64_BYTES = 10;

const TWO_32 = 0x1_0000_0000;

export function encodeFixed32(buf: Uint8Array, offset: number, value: number): number {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
  return offset + 4;
}

export function decodeFixed32(buf: Uint8Array, offset: number): number {
  return (
    (buf[offset]! |
      (buf[offset + 1]! << 8) |
      (buf[offset + 2]! << 16) |
      (buf[offset + 3]! << 24)) >>>
    0
  );
}

export function encodeFixed64(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`fixed64 value out of range: ${value}`);
  }
  const lo = value % TWO_32;
  const hi = Math.floor(value / TWO_32);
  encodeFixed32(buf, offset, lo);
  encodeFixed32(buf, offset + 4, hi);
  return offset + 8;
}

/** Decodes a fixed64; returns NaN if it exceeds 2^53 - 1 (callers treat that as corruption). */
export function decodeFixed64(buf: Uint8Array, offset: number): number {
  const lo = decodeFixed32(buf, offset);
  const hi = decodeFixed32(buf, offset + 4);
  if (hi > 0x1f_ffff) return Number.NaN;
  return hi * TWO_32 + lo;
}

/** Number of bytes the varint encoding of `value` takes. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes a varint32 (0 <= value < 2^32) at `offset`; returns the offset after it. */
export function encodeVarint32(buf: Uint8Array, offset: number, value: number): number {
  value >>>= 0;
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[offset++] = value;
  return offset;
}

/** Writes a varint64 (0 <= value <= 2^53 - 1) at `offset`; returns the offset after it. */
export function encodeVarint64(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`varint64 value out of range: ${value}`);
  }
  while (value >= 0x80) {
    buf[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[offset++] = value;
  return offset;
}

/**
 * Sequential decoder over a byte range. Every read checks bounds and throws CorruptionError
 * naming `file` and the absolute offset (`baseOffset + position`) on truncated or malformed input.
 */
export class ByteReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end: number = buf.length,
    readonly file = "<buffer>",
    readonly baseOffset = 0,
  ) {
    this.pos = start;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(reason: string, at: number = this.pos): never {
    throw new CorruptionError(this.file, this.baseOffset + at, reason);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("truncated byte");
    return this.buf[this.pos++]!;
  }

  fixed32(): number {
    if (this.end - this.pos < 4) this.fail("truncated fixed32");
    const v = decodeFixed32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  fixed64(): number {
    if (this.end - this.pos < 8) this.fail("truncated fixed64");
    const v = decodeFixed64(this.buf, this.pos);
    if (Number.isNaN(v)) this.fail("fixed64 exceeds 2^53-1");
    this.pos += 8;
    return v;
  }

  varint32(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.end) this.fail("truncated varint32", start);
      const b = this.buf[this.pos++]!;
      if (shift === 28 && b > 0x0f) this.fail("varint32 overflow", start);
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    return this.fail("varint32 too long", start);
  }

  varint64(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < MAX_VARINT64_BYTES; i++) {
      if (this.pos >= this.end) this.fail("truncated varint64", start);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > MAX_UINT53) this.fail("varint64 exceeds 2^53-1", start);
        return result;
      }
      mul *= 128;
    }
    return this.fail("varint64 too long", start);
  }

  /** `n` bytes as a view into the underlying buffer (no copy). */
  bytes(n: number): Uint8Array {
    if (n < 0 || this.end - this.pos < n) this.fail(`truncated: need ${n} bytes`);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** varint32 length followed by that many bytes (view, no copy). */
  lengthPrefixed(): Uint8Array {
    const n = this.varint32();
    return this.bytes(n);
  }
}
