/**
 * Token ranges and the mapping from a token to its segment at each level of a tree. A level-l
 * node splits the range into fanout^l equal segments (the last ones one token larger when the
 * size does not divide), so both sides of an exchange agree on every segment boundary.
 */

/** Number of distinct tokens: 2^64. */
export const RING_SIZE = 1n << 64n;
const MASK_64 = RING_SIZE - 1n;

/**
 * An arc of the ring: tokens t with `start < t <= end`, wrapping past 2^64 - 1 to 0 when
 * `start > end`; `start === end` is the whole ring (the convention of @distkv/ring).
 */
export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** Number of tokens in `range`, in [1, 2^64]. */
export function tokenRangeSize(range: TokenRange): bigint {
  const { start, end } = range;
  if (start < end) return end - start;
  if (start > end) return RING_SIZE - start + end;
  return RING_SIZE;
}

/**
 * Position of `token` inside `range`, in [0, size), or -1n when it lies outside. The first
 * token after `start` has offset 0.
 */
export function offsetInRange(range: TokenRange, size: bigint, token: bigint): bigint {
  const offset = (token - range.start - 1n) & MASK_64;
  return offset < size ? offset : -1n;
}

/** Index of the segment holding `offset` among `nodes` equal segments of a range of `size` tokens. */
export function segmentOf(offset: bigint, size: bigint, nodes: bigint): number {
  if (size === RING_SIZE) {
    // nodes is a power of two: a shift, no division.
    return Number((offset * nodes) >> 64n);
  }
  return Number((offset * nodes) / size);
}
