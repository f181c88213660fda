/**
 * Hashing. FORMAT: every function here fixes part of what two trees compare; changing one
 * makes trees built by different versions disagree on everything. Do not change.
 *
 * - An entry's digest is the first 16 bytes of SHA-256(varint(key length) || key || version).
 *   A strong hash matters: a leaf combines its entries by XOR, and only a hash without
 *   exploitable structure makes an accidental cancellation as unlikely as a 128-bit collision.
 * - A leaf's (and a split leaf segment's) hash is the XOR of its entries' digests, so one
 *   write updates it in O(1) whatever else the leaf holds, in any order.
 * - An inner node's hash is the first 16 bytes of SHA-256 over its children, each as a 4-byte
 *   big-endian entry count followed by its 16-byte hash; an empty node's hash is 16 zero bytes.
 */
import { hash } from "node:crypto";
import { describe, InvalidMerkleArgumentError } from "./errors.js";

/** Bytes of an entry digest and of a node hash. */
export const DIGEST_BYTES = 16;
/** The hash of an empty node. */
export const EMPTY_HASH: string = "\0".repeat(DIGEST_BYTES);

let scratch = new Uint8Array(1024);

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidMerkleArgumentError(`${what} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Writes the digest of an entry into the first 16 bytes of `out`. */
export function digestInto(key: Uint8Array, version: Uint8Array, out: Uint8Array): void {
  const need = varintSize(key.length) + key.length + version.length;
  if (need > scratch.length) scratch = new Uint8Array(Math.max(need, scratch.length * 2));
  let pos = 0;
  let n = key.length;
  while (n >= 0x80) {
    scratch[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  scratch[pos++] = n;
  scratch.set(key, pos);
  pos += key.length;
  scratch.set(version, pos);
  pos += version.length;
  out.set(hash("sha256", scratch.subarray(0, pos), "buffer").subarray(0, DIGEST_BYTES));
}

/**
 * The digest of an entry: which key, at which version. `version` is any byte string that two
 * replicas hold identically exactly when they hold the same version (DistKV passes the
 * canonical encoding of the key's sibling set).
 */
export function entryDigest(key: Uint8Array, version: Uint8Array): Uint8Array {
  assertBytes(key, "key");
  assertBytes(version, "version");
  const out = new Uint8Array(DIGEST_BYTES);
  digestInto(key, version, out);
  return out;
}

/** A latin1 string's char codes as bytes. */
export function latin1Bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

/** Bytes as a latin1 string (one char per byte). */
export function bytesLatin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

/** XORs a 16-byte digest into `acc` at `offset`. */
export function xorBytesInto(acc: Uint8Array, offset: number, digest: Uint8Array): void {
  for (let i = 0; i < DIGEST_BYTES; i++) acc[offset + i]! ^= digest[i]!;
}

/** XORs a digest held as a latin1 string (its first 16 chars) into `acc` at `offset`. */
export function xorInto(acc: Uint8Array, offset: number, digest: string): void {
  for (let i = 0; i < DIGEST_BYTES; i++) acc[offset + i]! ^= digest.charCodeAt(i);
}

/**
 * The hash of an inner node from its children's counts and hashes (`hashes` holds
 * `counts.length` hashes of 16 bytes back to back). Writes 16 bytes into `out` at `offset`.
 */
export function hashChildren(
  counts: ArrayLike<number>,
  hashes: Uint8Array,
  hashesOffset: number,
  out: Uint8Array,
  offset: number,
): void {
  const n = counts.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i]!;
  if (total === 0) {
    out.fill(0, offset, offset + DIGEST_BYTES);
    return;
  }
  const buf = new Uint8Array(n * (4 + DIGEST_BYTES));
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    buf[pos++] = (c >>> 24) & 0xff;
    buf[pos++] = (c >>> 16) & 0xff;
    buf[pos++] = (c >>> 8) & 0xff;
    buf[pos++] = c & 0xff;
    const from = hashesOffset + i * DIGEST_BYTES;
    buf.set(hashes.subarray(from, from + DIGEST_BYTES), pos);
    pos += DIGEST_BYTES;
  }
  out.set(hash("sha256", buf, "buffer").subarray(0, DIGEST_BYTES), offset);
}
