/**
 * Unsigned LEB128 varints for integers in [0, Number.MAX_SAFE_INTEGER]: 7 bits per byte, low
 * groups first, high bit = more bytes follow. At most 8 bytes (56 bits >= 53). Decoders reject
 * non-minimal forms (a final 0x00 group after the first byte) so every value has exactly one
 * encoding and a decoded buffer re-encodes to the same bytes.
 */

/** Bytes `n` takes as a varint. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8;
}

/** Writes `n` at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  // Bit operators are 32-bit: use them only below 2^31, divide above.
  while (n >= 0x80000000) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}
