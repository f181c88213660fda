import { describe } from "./describe.js";
import { InvalidRingOptionsError } from "./errors.js";

/** Default number of virtual nodes (tokens) per physical node. */
export const DEFAULT_VIRTUAL_NODES = 150;

/**
 * Upper bound on tokens per node. Far above any useful value (balance improves only with the
 * square root of the count) but low enough that a typo such as 1e9 fails fast instead of
 * exhausting memory on every node that receives the ring by gossip.
 */
export const MAX_VIRTUAL_NODES = 4096;

export interface RingOptions {
  /**
   * Tokens per physical node when its tokens are derived from its id. More tokens spread
   * ownership more evenly (the busiest node's excess shrinks roughly as 1/sqrt(V)) at the cost of
   * memory and rebuild time. Every node of a cluster must use the same value.
   * Positive integer, at most {@link MAX_VIRTUAL_NODES}.
   * @default 150
   */
  virtualNodes?: number;
}

export interface ResolvedRingOptions {
  readonly virtualNodes: number;
}

/** Checks a virtual-node count; `what` names the field in the error message. */
export function validateVirtualNodes(value: unknown, what: string): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_VIRTUAL_NODES
  ) {
    throw new InvalidRingOptionsError(
      `${what} must be an integer in [1, ${MAX_VIRTUAL_NODES}], got ${describe(value)}`,
    );
  }
  return value;
}

/** Validates `options` and returns a complete, frozen set with defaults filled in. */
export function resolveRingOptions(options: RingOptions = {}): ResolvedRingOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidRingOptionsError(`ring options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "virtualNodes") {
      throw new InvalidRingOptionsError(`unknown ring option ${JSON.stringify(key)}`);
    }
  }
  const virtualNodes =
    options.virtualNodes === undefined
      ? DEFAULT_VIRTUAL_NODES
      : validateVirtualNodes(options.virtualNodes, "virtualNodes");
  return Object.freeze({ virtualNodes });
}
