import { describe } from "./describe.js";
import { InvalidRingArgumentError, InvalidRingTokenError } from "./errors.js";
import { murmur3x86128Into } from "./murmur3.js";

/**
 * A position on the ring: an unsigned 64-bit integer in [0, 2^64). Public APIs use `bigint`
 * (it maps onto protobuf `uint64` and compares exactly); lookups work on two 32-bit halves
 * internally and never create a BigInt.
 */
export type Token = bigint;

/** A key: raw bytes, or a string hashed as its UTF-8 encoding. */
export type RingKey = Uint8Array | string;

export const MIN_TOKEN: Token = 0n;
export const MAX_TOKEN: Token = 0xffff_ffff_ffff_ffffn;
/** Number of distinct tokens: the length of the whole ring. */
export const RING_SIZE: bigint = 1n << 64n;

/** FORMAT CONSTANT: the MurmurHash3 seed used for keys and vnode names. Do not change. */
export const TOKEN_HASH_SEED = 0;

const encoder = new TextEncoder();
// At least 64 bytes, which the ASCII fast path relies on.
let scratch = new Uint8Array(1024);

/**
 * Output of {@link hashKeyInto}: `[0]` is the low 32 bits of the token, `[1]` the high 32 bits
 * (words 3 and 4 hold the rest of the 128-bit digest and are unused). Shared scratch, valid until
 * the next call; JavaScript being single-threaded makes that safe.
 */
export const keyHash = new Uint32Array(4);

/**
 * Hashes a key into {@link keyHash} without allocating (strings are UTF-8 encoded into a reused
 * buffer). The token is the first 8 bytes of MurmurHash3_x86_128(key, seed 0) read as a
 * little-endian unsigned integer, i.e. `h2 << 32 | h1`.
 */
export function hashKeyInto(key: RingKey): void {
  if (typeof key === "string") {
    let n = key.length;
    // ASCII fast path: for short keys a JS loop beats crossing into TextEncoder.
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) break;
        scratch[i] = c;
      }
      if (i === n) {
        murmur3x86128Into(scratch, n, TOKEN_HASH_SEED, keyHash);
        return;
      }
    }
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (n * 3 > scratch.length) scratch = new Uint8Array(n * 3);
    n = encoder.encodeInto(key, scratch).written;
    murmur3x86128Into(scratch, n, TOKEN_HASH_SEED, keyHash);
    return;
  }
  if (!(key instanceof Uint8Array)) {
    throw new InvalidRingArgumentError(
      `a key must be a Uint8Array or a string, got ${describe(key)}`,
    );
  }
  murmur3x86128Into(key, key.length, TOKEN_HASH_SEED, keyHash);
}

const tokenView = new DataView(new ArrayBuffer(8));

/** Joins two 32-bit halves into a token (DataView is several times faster than shifts here). */
export function tokenFromParts(hi: number, lo: number): Token {
  tokenView.setUint32(0, hi);
  tokenView.setUint32(4, lo);
  return tokenView.getBigUint64(0);
}

/** The token of a key: where it sits on the ring. Same on every machine and Node version. */
export function tokenOf(key: RingKey): Token {
  hashKeyInto(key);
  return tokenFromParts(keyHash[1]!, keyHash[0]!);
}

export function isToken(value: unknown): value is Token {
  return typeof value === "bigint" && value >= MIN_TOKEN && value <= MAX_TOKEN;
}

/** Throws InvalidRingTokenError unless `value` is a bigint in [0, 2^64). */
export function assertToken(value: unknown, what = "token"): asserts value is Token {
  if (!isToken(value)) {
    throw new InvalidRingTokenError(
      `${what} must be a bigint in [0, 2^64), got ${describe(value)}`,
    );
  }
}

/** The canonical text form of a token: unsigned decimal, as used in serialised ring state. */
export function formatToken(token: Token): string {
  assertToken(token);
  return token.toString(10);
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;

/** Parses the canonical text form (unsigned decimal, no sign, no leading zeros). */
export function parseToken(text: string): Token {
  if (typeof text !== "string" || !DECIMAL.test(text)) {
    throw new InvalidRingTokenError(
      `a token must be an unsigned decimal integer string, got ${describe(text)}`,
    );
  }
  const token = BigInt(text);
  if (token > MAX_TOKEN) {
    throw new InvalidRingTokenError(`token ${text} is not below 2^64`);
  }
  return token;
}
