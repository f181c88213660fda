/**
 * MurmurHash3, x86 128-bit variant (Austin Appleby's public-domain algorithm), written with 32-bit
 * integer math only (`Math.imul`, `>>> 0`), so it gives the same answer on every machine and
 * Node version and never touches BigInt. The x86 variant is chosen over x64_128 because the x64
 * variant needs 64-bit multiplies, which JavaScript can only emulate slowly.
 *
 * FORMAT CONSTANT: ring tokens are derived from this function (see token.ts). Changing a single
 * operation here moves every key and every vnode in every cluster: do not change. The golden
 * vectors in testdata/ were produced by the reference C implementation and guard it.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Hashes `bytes[0..length)` and writes the four 32-bit words h1..h4 of the digest into
 * `out[0..3]`. Internal hot path: no allocation, no validation (callers pass a length within
 * `bytes`, a 32-bit seed, and an `out` of at least 4 words).
 */
export function murmur3x86128Into(
  bytes: Uint8Array,
  length: number,
  seed: number,
  out: Uint32Array,
): void {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocksEnd = length - (length & 15);
  let i = 0;
  for (; i < blocksEnd; i += 16) {
    let k1 = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    let k2 = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    let k3 = bytes[i + 8]! | (bytes[i + 9]! << 8) | (bytes[i + 10]! << 16) | (bytes[i + 11]! << 24);
    let k4 =
      bytes[i + 12]! | (bytes[i + 13]! << 8) | (bytes[i + 14]! << 16) | (bytes[i + 15]! << 24);

    k1 = Math.imul(rotl32(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl32(h1, 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl32(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl32(h2, 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl32(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl32(h3, 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl32(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl32(h4, 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // Tail: up to 15 bytes, little-endian into k1..k4; a lane is mixed only if it got a byte.
  const rest = length & 15;
  if (rest > 12) {
    let k4 = 0;
    if (rest > 14) k4 ^= bytes[i + 14]! << 16;
    if (rest > 13) k4 ^= bytes[i + 13]! << 8;
    k4 ^= bytes[i + 12]!;
    h4 ^= Math.imul(rotl32(Math.imul(k4, C4), 18), C1);
  }
  if (rest > 8) {
    let k3 = 0;
    if (rest > 11) k3 ^= bytes[i + 11]! << 24;
    if (rest > 10) k3 ^= bytes[i + 10]! << 16;
    if (rest > 9) k3 ^= bytes[i + 9]! << 8;
    k3 ^= bytes[i + 8]!;
    h3 ^= Math.imul(rotl32(Math.imul(k3, C3), 17), C4);
  }
  if (rest > 4) {
    let k2 = 0;
    if (rest > 7) k2 ^= bytes[i + 7]! << 24;
    if (rest > 6) k2 ^= bytes[i + 6]! << 16;
    if (rest > 5) k2 ^= bytes[i + 5]! << 8;
    k2 ^= bytes[i + 4]!;
    h2 ^= Math.imul(rotl32(Math.imul(k2, C2), 16), C3);
  }
  if (rest > 0) {
    let k1 = 0;
    if (rest > 3) k1 ^= bytes[i + 3]! << 24;
    if (rest > 2) k1 ^= bytes[i + 2]! << 16;
    if (rest > 1) k1 ^= bytes[i + 1]! << 8;
    k1 ^= bytes[i]!;
    h1 ^= Math.imul(rotl32(Math.imul(k1, C1), 15), C2);
  }

  // Finalisation. The reference XORs in the length as a 32-bit value.
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}

/**
 * MurmurHash3_x86_128 of `bytes` with a 32-bit `seed` (default 0), as the 16-byte digest in the
 * reference byte order (h1..h4, each little-endian), the same bytes other MurmurHash3
 * implementations print. Exposed for tests and for tools that need to reproduce tokens.
 */
export function murmurHash3x86128(bytes: Uint8Array, seed = 0): Uint8Array {
  const words = new Uint32Array(4);
  murmur3x86128Into(bytes, bytes.length, seed >>> 0, words);
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  for (let w = 0; w < 4; w++) view.setUint32(w * 4, words[w]!, true);
  return out;
}
