/**
 * YCSB's `Utils.fnvhash64(long)`: FNV-1a over the 8 little-endian bytes of a 64-bit integer,
 * then `Math.abs` of the signed result. The scrambled zipfian generator hashes item numbers with
 * it, so using the same function keeps our hot keys spread like YCSB's. Done with two 32-bit
 * halves because BigInt would cost more per operation than the rest of the generator.
 */

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
// FNV_PRIME_64 = 2^40 + 0x1b3.
const PRIME_LOW = 0x1b3;

/** The hash as unsigned 32-bit halves of the non-negative 63-bit result. */
export interface Hash64 {
  hi: number;
  lo: number;
}

/** `value` must be an integer in [0, 2^53). */
export function fnvHash64(value: number): Hash64 {
  let vLo = value >>> 0;
  let vHi = Math.floor(value / 4294967296) >>> 0;
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (let i = 0; i < 8; i++) {
    const octet = vLo & 0xff;
    vLo = ((vLo >>> 8) | ((vHi & 0xff) << 24)) >>> 0;
    vHi >>>= 8;
    lo = (lo ^ octet) >>> 0;
    // (hi:lo) * (2^40 + 0x1b3) mod 2^64. lo * 0x1b3 < 2^41 stays exact in a double.
    const loProduct = lo * PRIME_LOW;
    const carry = Math.floor(loProduct / 4294967296);
    const newLo = loProduct >>> 0;
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) >>> 0;
    lo = newLo;
  }
  if (hi & 0x80000000) {
    // Math.abs of a negative Java long: two's complement negation.
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  return { hi, lo };
}

/** `fnvHash64(value) % n` for 0 < n < 2^32, exactly (no product passes 2^53). */
export function fnvHash64Mod(value: number, n: number): number {
  const { hi, lo } = fnvHash64(value);
  let r = hi % n;
  r = (r * 65536) % n;
  r = (r * 65536) % n;
  return (r + (lo % n)) % n;
}
