/**
 * Internal keys: the user key followed by an 8-byte trailer holding (sequence << 8 | type) as a
 * little-endian 64-bit integer, exactly leveldb's layout. They order by user key ascending, then
 * sequence descending, so that the newest version of a key comes first and a seek to
 * (key, snapshotSequence) lands on the newest version a snapshot may see.
 *
 * ON-DISK FORMAT (tables and the manifest store internal keys): never change the meaning of the
 * trailer or of the type values.
 */

import { compareBytesRange } from "./util/index.js";

export const TRAILER_BYTES = 8;

/** Value types stored in the trailer's low byte. Do not change: they are on disk. */
export const ValueType = {
  Deletion: 0,
  Value: 1,
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/**
 * The type used when building a seek key: the highest type, so that (key, seq, TYPE_FOR_SEEK)
 * sorts before every entry of `key` with sequence <= seq.
 */
export const TYPE_FOR_SEEK: ValueType = ValueType.Value;

/**
 * Sequence numbers are plain numbers; 2^53 - 1 fits in the 56 bits the trailer gives them and is
 * far beyond what any database reaches (a million writes a second for 285 years).
 */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

const TWO_24 = 0x100_0000;

/** Writes the trailer for (seq, type) at `offset`. */
export function encodeTrailer(buf: Uint8Array, offset: number, seq: number, type: number): void {
  // seq occupies bytes 1..7 little-endian; split into a low 24-bit and a high 29-bit part so
  // every step stays within 32-bit integer arithmetic.
  const lo = seq % TWO_24;
  const hi = Math.floor(seq / TWO_24);
  buf[offset] = type;
  buf[offset + 1] = lo & 0xff;
  buf[offset + 2] = (lo >>> 8) & 0xff;
  buf[offset + 3] = (lo >>> 16) & 0xff;
  buf[offset + 4] = hi & 0xff;
  buf[offset + 5] = (hi >>> 8) & 0xff;
  buf[offset + 6] = (hi >>> 16) & 0xff;
  buf[offset + 7] = (hi >>> 24) & 0xff;
}

/** Builds userKey + trailer. */
export function makeInternalKey(userKey: Uint8Array, seq: number, type: number): Uint8Array {
  const n = userKey.length;
  const out = new Uint8Array(n + TRAILER_BYTES);
  if (n < 32) {
    for (let i = 0; i < n; i++) out[i] = userKey[i]!;
  } else {
    out.set(userKey, 0);
  }
  encodeTrailer(out, n, seq, type);
  return out;
}

/** The user-key part (a view, no copy). */
export function extractUserKey(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_BYTES);
}

export function internalKeyType(ikey: Uint8Array): number {
  return ikey[ikey.length - TRAILER_BYTES]!;
}

export function internalKeySequence(ikey: Uint8Array): number {
  const o = ikey.length - TRAILER_BYTES;
  const lo = ikey[o + 1]! | (ikey[o + 2]! << 8) | (ikey[o + 3]! << 16);
  const hi =
    (ikey[o + 4]! | (ikey[o + 5]! << 8) | (ikey[o + 6]! << 16) | (ikey[o + 7]! << 24)) >>> 0;
  return hi * TWO_24 + lo;
}

/** True if `ikey` is long enough to hold a trailer and its type is known. */
export function isWellFormedInternalKey(ikey: Uint8Array): boolean {
  if (ikey.length < TRAILER_BYTES) return false;
  const t = ikey[ikey.length - TRAILER_BYTES];
  return t === ValueType.Deletion || t === ValueType.Value;
}

/**
 * The internal-key order: user key ascending (bytewise), then trailer descending. Comparing the
 * little-endian trailer from its most significant byte down gives the numeric order without
 * decoding it.
 */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const la = a.length - TRAILER_BYTES;
  const lb = b.length - TRAILER_BYTES;
  const r = compareBytesRange(a, 0, la, b, 0, lb);
  if (r !== 0) return r;
  for (let i = TRAILER_BYTES - 1; i >= 0; i--) {
    const d = b[lb + i]! - a[la + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** compareInternalKeys(a.subarray(aStart, aEnd), b), without the view. */
export function compareInternalKeyRange(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
): number {
  const la = aEnd - TRAILER_BYTES;
  const lb = b.length - TRAILER_BYTES;
  const r = compareBytesRange(a, aStart, la, b, 0, lb);
  if (r !== 0) return r;
  for (let i = TRAILER_BYTES - 1; i >= 0; i--) {
    const d = b[lb + i]! - a[la + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Compares the user-key part of an internal key with a user key. */
export function compareUserKeyOf(ikey: Uint8Array, userKey: Uint8Array): number {
  return compareBytesRange(ikey, 0, ikey.length - TRAILER_BYTES, userKey, 0, userKey.length);
}

/** Compares the user-key parts of two internal keys. */
export function compareUserKeysOf(a: Uint8Array, b: Uint8Array): number {
  return compareBytesRange(a, 0, a.length - TRAILER_BYTES, b, 0, b.length - TRAILER_BYTES);
}

/**
 * The bloom filter is built over user keys so that a lookup at any sequence can use it.
 *
 * Short keys are copied rather than viewed: keys from block iterators are small on-heap typed
 * arrays, and `subarray` on one forces V8 to move its bytes to an off-heap buffer first (an
 * allocation that made this function 14% of a compaction). A copy of <= 64 bytes stays on-heap.
 */
export function filterKeyOf(ikey: Uint8Array): Uint8Array {
  const n = ikey.length - TRAILER_BYTES;
  if (n > 64) return ikey.subarray(0, n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ikey[i]!;
  return out;
}
