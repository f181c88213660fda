import { describe, InvalidMerkleOptionsError } from "./errors.js";
import { RING_SIZE, type TokenRange, tokenRangeSize } from "./range.js";

/** Default children per inner node. */
export const DEFAULT_FANOUT = 16;
/** Default levels below the root: 16^3 = 4096 leaf segments. */
export const DEFAULT_DEPTH = 3;
/** Most leaf segments a tree may have (memory: about 20 bytes per leaf, allocated up front). */
export const MAX_LEAVES = 1 << 20;
/** Largest fanout (a power of two). */
export const MAX_FANOUT = 256;
/**
 * The exchange may descend below the leaves, splitting a leaf's token segment further on the
 * fly, as long as a level has at most this many nodes (indexes stay exact in a double).
 */
export const MAX_LEVEL_NODES = 2 ** 52;

export interface MerkleTreeOptions {
  /**
   * The token (ring position, an unsigned 64-bit integer) of a key. Decides which leaf holds
   * the key. Both sides of an exchange must use the same function (DistKV passes
   * `tokenOf` from @distkv/ring). Required.
   */
  readonly tokenOf: (key: Uint8Array) => bigint;
  /**
   * The token range the tree covers: tokens t with start < t <= end, wrapping past 2^64 - 1;
   * `start === end` is the whole ring. Keys whose token lies outside are rejected.
   * @default { start: 0n, end: 0n } (the whole ring)
   */
  readonly range?: TokenRange;
  /**
   * Children per inner node: a power of two in [2, 256]. A wider tree needs fewer round trips
   * to reach a differing leaf but sends more hashes per level descended.
   * @default 16
   */
  readonly fanout?: number;
  /**
   * Levels below the root; the tree has fanout^depth leaf segments (at most 2^20). Leaves are
   * kept in memory; the exchange splits a differing leaf further on the fly, so a small tree
   * still finds single keys, at the cost of one round trip per extra level.
   * @default 3
   */
  readonly depth?: number;
}

export interface ResolvedMerkleTreeOptions {
  readonly tokenOf: (key: Uint8Array) => bigint;
  readonly range: TokenRange;
  readonly fanout: number;
  /** log2(fanout). */
  readonly fanoutBits: number;
  readonly depth: number;
  /** fanout^depth. */
  readonly leaves: number;
  /** The deepest level the exchange may reach (>= depth). */
  readonly maxLevel: number;
}

const KNOWN = new Set(["tokenOf", "range", "fanout", "depth"]);

function isToken(v: unknown): v is bigint {
  return typeof v === "bigint" && v >= 0n && v < RING_SIZE;
}

/** Validates `options` and returns a complete, frozen set. Throws InvalidMerkleOptionsError. */
export function resolveMerkleTreeOptions(options: MerkleTreeOptions): ResolvedMerkleTreeOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidMerkleOptionsError(`options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new InvalidMerkleOptionsError(`unknown option ${JSON.stringify(key)}`);
  }
  if (typeof options.tokenOf !== "function") {
    throw new InvalidMerkleOptionsError(
      `tokenOf must be a function from key bytes to a token, got ${describe(options.tokenOf)}`,
    );
  }
  const range = options.range ?? { start: 0n, end: 0n };
  if (typeof range !== "object" || range === null || !isToken(range.start) || !isToken(range.end)) {
    throw new InvalidMerkleOptionsError(
      "range must be { start, end } with bigint tokens in [0, 2^64)",
    );
  }
  const fanout = options.fanout ?? DEFAULT_FANOUT;
  if (
    typeof fanout !== "number" ||
    !Number.isInteger(fanout) ||
    fanout < 2 ||
    fanout > MAX_FANOUT ||
    (fanout & (fanout - 1)) !== 0
  ) {
    throw new InvalidMerkleOptionsError(
      `fanout must be a power of two in [2, ${MAX_FANOUT}], got ${describe(fanout)}`,
    );
  }
  const fanoutBits = Math.log2(fanout);
  const depth = options.depth ?? DEFAULT_DEPTH;
  if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1) {
    throw new InvalidMerkleOptionsError(`depth must be an integer >= 1, got ${describe(depth)}`);
  }
  if (fanoutBits * depth > 20) {
    throw new InvalidMerkleOptionsError(
      `fanout^depth = 2^${fanoutBits * depth} leaves is more than MAX_LEAVES (2^20)`,
    );
  }
  const size = tokenRangeSize(range);
  const leaves = fanout ** depth;
  if (BigInt(leaves) > size) {
    throw new InvalidMerkleOptionsError(
      `the range holds ${size} tokens, fewer than the ${leaves} leaves (fanout^depth)`,
    );
  }
  let maxLevel = depth;
  while (
    fanout ** (maxLevel + 1) <= MAX_LEVEL_NODES &&
    BigInt(fanout) ** BigInt(maxLevel + 1) <= size
  ) {
    maxLevel++;
  }
  return Object.freeze({
    tokenOf: options.tokenOf,
    range: Object.freeze({ start: range.start, end: range.end }),
    fanout,
    fanoutBits,
    depth,
    leaves,
    maxLevel,
  });
}
