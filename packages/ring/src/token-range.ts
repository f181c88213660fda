import type { Token } from "./token.js";
import { RING_SIZE } from "./token.js";

/**
 * An arc of the ring: the tokens `t` with `start < t <= end`, walking clockwise and wrapping
 * past 2^64 - 1 to 0 when `start > end`. `start === end` denotes the whole ring (the only way a
 * single-token arc can close on itself); empty arcs are never produced.
 */
export interface TokenRange {
  readonly start: Token;
  readonly end: Token;
}

/** Whether `token` lies in `range` (start exclusive, end inclusive, wrap-aware). */
export function rangeContains(range: TokenRange, token: Token): boolean {
  const { start, end } = range;
  if (start < end) return token > start && token <= end;
  if (start > end) return token > start || token <= end;
  return true;
}

/** Number of tokens in `range`: in [1, 2^64]; the whole ring (`start === end`) is 2^64. */
export function rangeSize(range: TokenRange): bigint {
  const { start, end } = range;
  if (start < end) return end - start;
  if (start > end) return RING_SIZE - start + end;
  return RING_SIZE;
}

/** Whether `range` covers the whole ring. */
export function isFullRange(range: TokenRange): boolean {
  return range.start === range.end;
}
