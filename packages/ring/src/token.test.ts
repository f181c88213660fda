import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isInvalidRingArgumentError, isInvalidRingTokenError } from "./errors.js";
import { murmurHash3x86128 } from "./murmur3.js";
import {
  formatToken,
  isToken,
  MAX_TOKEN,
  parseToken,
  type RingKey,
  tokenFromParts,
  tokenOf,
} from "./token.js";

// FORMAT CONSTANTS, computed by the reference C MurmurHash3: if this test fails, the change
// would move every key and vnode of every existing cluster.
const golden = JSON.parse(readFileSync(new URL("../testdata/tokens.json", import.meta.url), "utf8"))
  .tokens as { key: string; token: string }[];

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("tokenOf", () => {
  it("gives the golden token for fixed keys, as string and as bytes", () => {
    expect(golden.length).toBeGreaterThanOrEqual(10);
    for (const { key, token } of golden) {
      expect(tokenOf(key), key).toBe(BigInt(token));
      expect(tokenOf(utf8(key)), key).toBe(BigInt(token));
    }
  });

  it("is the first 8 digest bytes read little-endian", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const digest = murmurHash3x86128(bytes);
        expect(tokenOf(bytes)).toBe(new DataView(digest.buffer).getBigUint64(0, true));
      }),
    );
  });

  it("hashes a string exactly as its UTF-8 bytes (ASCII, non-ASCII, long, lone surrogates)", () => {
    const strings = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ minLength: 60, maxLength: 3000 }),
      fc.string({ unit: fc.constantFrom("\ud800", "\udfff", "a", "é", "😀"), maxLength: 30 }),
    );
    fc.assert(
      fc.property(strings, (s) => {
        expect(tokenOf(s)).toBe(tokenOf(Buffer.from(s, "utf8")));
      }),
    );
  });

  it("is not disturbed by a long key hashed in between (shared scratch is reused safely)", () => {
    const before = tokenOf("short");
    tokenOf("x".repeat(100_000));
    tokenOf("é".repeat(50_000));
    expect(tokenOf("short")).toBe(before);
  });

  it("accepts Buffer and subarrays, and rejects other key types", () => {
    const big = utf8("xxhelloyy");
    expect(tokenOf(big.subarray(2, 7))).toBe(tokenOf("hello"));
    for (const bad of [42, null, undefined, ["a"], { length: 1 }, new Uint16Array(2)]) {
      expect(() => tokenOf(bad as unknown as RingKey)).toThrow(
        expect.toSatisfy(isInvalidRingArgumentError),
      );
    }
  });

  it("tokenFromParts joins high and low halves", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_TOKEN }), (t) => {
        expect(tokenFromParts(Number(t >> 32n), Number(t & 0xffffffffn))).toBe(t);
      }),
    );
  });
});

describe("token text form", () => {
  it("round-trips every token", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_TOKEN }), (t) => {
        expect(parseToken(formatToken(t))).toBe(t);
      }),
    );
    expect(formatToken(MAX_TOKEN)).toBe("18446744073709551615");
  });

  it("rejects malformed text and out-of-range values", () => {
    for (const bad of ["", "-1", "01", "1e3", " 1", "1 ", "0x10", "18446744073709551616", "1.0"]) {
      expect(() => parseToken(bad), bad).toThrow(expect.toSatisfy(isInvalidRingTokenError));
    }
    expect(() => parseToken(7 as unknown as string)).toThrow(
      expect.toSatisfy(isInvalidRingTokenError),
    );
    for (const bad of [-1n, MAX_TOKEN + 1n, 5]) {
      expect(isToken(bad)).toBe(false);
      expect(() => formatToken(bad as bigint)).toThrow(expect.toSatisfy(isInvalidRingTokenError));
    }
  });
});
