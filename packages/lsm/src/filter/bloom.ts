/**
 * A bloom filter over whole tables (leveldb's double-hashing scheme).
 *
 * Encoding: the bit array (byte i holds bits 8i..8i+7, least significant first) followed by one
 * byte holding k, the number of probes. ON-DISK FORMAT: the hash (util/hash.ts), its seed and
 * the probe sequence never change meaning.
 */

import { InvalidArgumentError } from "../errors.js";
import { hash32 } from "../util/hash.js";

/** Seed of the filter hash. ON-DISK FORMAT: never change. */
export const BLOOM_HASH_SEED = 0xbc9f1d34;
/** @default 10 bits per key gives about 1% false positives. */
export const DEFAULT_BLOOM_BITS_PER_KEY = 10;

export function bloomHash(key: Uint8Array): number {
  return hash32(key, BLOOM_HASH_SEED);
}

/** Number of probes for a given density: round(bitsPerKey * ln 2), clamped to [1, 30]. */
export function bloomProbes(bitsPerKey: number): number {
  return Math.min(30, Math.max(1, Math.round(bitsPerKey * Math.LN2)));
}

/** Collects key hashes and encodes a filter for them. */
export class BloomFilterBuilder {
  private hashes = new Uint32Array(1024);
  private n = 0;

  constructor(readonly bitsPerKey: number = DEFAULT_BLOOM_BITS_PER_KEY) {
    if (!(bitsPerKey > 0 && bitsPerKey <= 64)) {
      throw new InvalidArgumentError(`bloomBitsPerKey must be in (0, 64], got ${bitsPerKey}`);
    }
  }

  get count(): number {
    return this.n;
  }

  addKey(key: Uint8Array): void {
    this.addHash(bloomHash(key));
  }

  addHash(h: number): void {
    if (this.n === this.hashes.length) {
      const next = new Uint32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[this.n++] = h;
  }

  finish(): Uint8Array {
    const k = bloomProbes(this.bitsPerKey);
    // A floor of 64 bits keeps tiny filters from having a very high false positive rate.
    let bits = Math.max(64, Math.ceil(this.n * this.bitsPerKey));
    const bytes = Math.ceil(bits / 8);
    bits = bytes * 8;
    const out = new Uint8Array(bytes + 1);
    for (let i = 0; i < this.n; i++) {
      let h = this.hashes[i]!;
      const delta = ((h >>> 17) | (h << 15)) >>> 0;
      for (let j = 0; j < k; j++) {
        const pos = h % bits;
        out[pos >>> 3]! |= 1 << (pos & 7);
        h = (h + delta) >>> 0;
      }
    }
    out[bytes] = k;
    return out;
  }
}

/**
 * The bit count and probe count of an encoded filter. probes is 0 when the filter cannot
 * exclude anything (too short, or a probe count reserved for other encodings).
 */
export function bloomShape(filter: Uint8Array): { bits: number; probes: number } {
  const len = filter.length;
  if (len < 2) return { bits: 0, probes: 0 };
  const k = filter[len - 1]!;
  // Probe counts above 30 are reserved for other encodings: do not filter.
  if (k > 30 || k === 0) return { bits: 0, probes: 0 };
  // Filters of 2^29 bytes or more would overflow the 32-bit arithmetic below: do not filter.
  if (len - 1 >= 1 << 29) return { bits: 0, probes: 0 };
  return { bits: (len - 1) * 8, probes: k };
}

/**
 * Tests hash h against a filter whose shape (bloomShape) is known and has probes > 0.
 * All arithmetic is on unsigned 32-bit integers, so the modulo compiles to an integer division
 * (on plain numbers it is a floating-point remainder, many times slower).
 */
export function bloomProbe(filter: Uint8Array, bits: number, probes: number, h: number): boolean {
  const nbits = bits >>> 0;
  let x = h >>> 0;
  const delta = ((x >>> 17) | (x << 15)) >>> 0;
  for (let j = 0; j < probes; j++) {
    const pos = (x % nbits) >>> 0;
    if ((filter[pos >>> 3]! & (1 << (pos & 7))) === 0) return false;
    x = (x + delta) >>> 0;
  }
  return true;
}

/** Tests a key hash against an encoded filter. False means surely absent. */
export function bloomMayContainHash(filter: Uint8Array, h: number): boolean {
  const { bits, probes } = bloomShape(filter);
  return probes === 0 || bloomProbe(filter, bits, probes, h);
}

export function bloomMayContain(filter: Uint8Array, key: Uint8Array): boolean {
  return bloomMayContainHash(filter, bloomHash(key));
}
