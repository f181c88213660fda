import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCorruptionError } from "../errors.js";
import { ByteWriter } from "./byte-writer.js";
import {
  ByteReader,
  decodeFixed32,
  decodeFixed64,
  encodeVarint32,
  encodeVarint64,
  varintLength,
} from "./coding.js";
import { compareBytes, compareBytesRange, sharedPrefixLength } from "./compare-bytes.js";
import { crc32c, crc32cUpdate, maskCrc, unmaskCrc } from "./crc32c.js";

// Bitwise reference CRC-32C, to check the sliced tables against.
function crcRef(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  it("matches the published check values (RFC 3720 B.4 and the standard check string)", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("equals the bitwise reference on random data, and extends incrementally", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), (data, cut) => {
        expect(crc32c(data)).toBe(crcRef(data));
        const k = data.length === 0 ? 0 : cut % data.length;
        expect(crc32cUpdate(crc32c(data, 0, k), data, k)).toBe(crcRef(data));
      }),
    );
  });

  it("handles unaligned views and sub-ranges on the word path", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 270, maxLength: 700 }),
        fc.nat(7),
        fc.nat(7),
        (data, a, b) => {
          const view = data.subarray(a);
          const end = Math.max(0, view.length - b);
          expect(crc32c(view, 0, end)).toBe(crcRef(view.subarray(0, end)));
          expect(crc32c(data, a, a + end)).toBe(crcRef(data.subarray(a, a + end)));
        },
      ),
    );
  });

  it("mask/unmask are inverse and masking changes the value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (c) => {
        expect(unmaskCrc(maskCrc(c))).toBe(c);
        expect(maskCrc(c)).not.toBe(c);
      }),
    );
  });
});

describe("coding", () => {
  it("round-trips varints, fixed ints and length-prefixed bytes through ByteWriter/ByteReader", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              t: fc.constant("v32" as const),
              v: fc.integer({ min: 0, max: 0xffffffff }),
            }),
            fc.record({ t: fc.constant("v64" as const), v: fc.maxSafeNat() }),
            fc.record({
              t: fc.constant("f32" as const),
              v: fc.integer({ min: 0, max: 0xffffffff }),
            }),
            fc.record({ t: fc.constant("f64" as const), v: fc.maxSafeNat() }),
            fc.record({ t: fc.constant("bytes" as const), v: fc.uint8Array({ maxLength: 70 }) }),
          ),
        ),
        (items) => {
          const w = new ByteWriter(16);
          for (const it of items) {
            if (it.t === "v32") w.putVarint32(it.v);
            else if (it.t === "v64") w.putVarint64(it.v);
            else if (it.t === "f32") w.putFixed32(it.v);
            else if (it.t === "f64") w.putFixed64(it.v);
            else w.putLengthPrefixed(it.v);
          }
          const r = new ByteReader(w.toBytes());
          for (const it of items) {
            if (it.t === "v32") expect(r.varint32()).toBe(it.v);
            else if (it.t === "v64") expect(r.varint64()).toBe(it.v);
            else if (it.t === "f32") expect(r.fixed32()).toBe(it.v);
            else if (it.t === "f64") expect(r.fixed64()).toBe(it.v);
            else expect(Array.from(r.lengthPrefixed())).toEqual(Array.from(it.v));
          }
          expect(r.atEnd()).toBe(true);
        },
      ),
    );
  });

  it("varintLength matches the encoded length", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const buf = new Uint8Array(10);
        expect(encodeVarint64(buf, 0, v)).toBe(varintLength(v));
        if (v <= 0xffffffff) expect(encodeVarint32(buf, 0, v)).toBe(varintLength(v));
      }),
    );
  });

  it("reports truncated and overlong input as CorruptionError with file and absolute offset", () => {
    const r = new ByteReader(Uint8Array.of(0x80, 0x80), 0, 2, "MANIFEST-000001", 1000);
    try {
      r.varint32();
      expect.fail("should throw");
    } catch (e) {
      expect(isCorruptionError(e)).toBe(true);
      expect((e as Error).message).toContain("MANIFEST-000001");
      expect((e as { offset: number }).offset).toBe(1000);
    }
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)).varint32()).toThrow(
      /overflow/,
    );
    expect(() => new ByteReader(new Uint8Array(11).fill(0x80)).varint64()).toThrow(
      /too long|truncated/,
    );
    expect(() => new ByteReader(Uint8Array.of(5, 1, 2)).lengthPrefixed()).toThrow(/truncated/);
    expect(Number.isNaN(decodeFixed64(new Uint8Array(8).fill(0xff), 0))).toBe(true);
    expect(decodeFixed32(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0)).toBe(0xffffffff);
  });
});

describe("compareBytes", () => {
  it("is memcmp order then length, like Buffer.compare", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        expect(Math.sign(compareBytes(a, b))).toBe(Buffer.compare(a, b));
        expect(Math.sign(compareBytesRange(a, 0, a.length, b, 0, b.length))).toBe(
          Buffer.compare(a, b),
        );
        const s = sharedPrefixLength(a, b);
        expect(Array.from(a.subarray(0, s))).toEqual(Array.from(b.subarray(0, s)));
        if (s < a.length && s < b.length) expect(a[s]).not.toBe(b[s]);
      }),
    );
  });
});
