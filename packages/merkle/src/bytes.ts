/**
 * Minimal growable writer and bounds-checked reader for the exchange format: unsigned LEB128
 * varints (minimal form, values below 2^53), raw bytes, and latin1 strings (one char per byte,
 * which is how keys and digests are held in memory).
 */
import { MerkleProtocolError } from "./errors.js";

export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.pos++] = (v >>> 24) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  bytes(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Writes the char codes of a latin1 string (each < 256) as bytes. */
  latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    for (let i = 0; i < n; i++) b[this.pos++] = s.charCodeAt(i);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(message: string): never {
    throw new MerkleProtocolError(`malformed ${this.what} at byte ${this.pos}: ${message}`);
  }

  u8(): number {
    if (this.pos >= this.buf.length) this.fail("truncated");
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.buf.length) this.fail("truncated");
    const b = this.buf;
    const v =
      ((b[this.pos]! << 24) |
        (b[this.pos + 1]! << 16) |
        (b[this.pos + 2]! << 8) |
        b[this.pos + 3]!) >>>
      0;
    this.pos += 4;
    return v;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === 8) this.fail("varint longer than 8 bytes");
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) this.fail("varint not in minimal form");
        break;
      }
      scale *= 0x80;
    }
    if (value > Number.MAX_SAFE_INTEGER) this.fail("varint above 2^53 - 1");
    return value;
  }

  /** `n` bytes as a latin1 string. */
  latin1(n: number): string {
    if (this.pos + n > this.buf.length) this.fail("truncated");
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString("latin1");
    this.pos += n;
    return s;
  }

  end(): void {
    if (this.pos !== this.buf.length)
      this.fail(`${this.buf.length - this.pos} bytes after the end`);
  }
}
