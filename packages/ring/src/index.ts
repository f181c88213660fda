/**
 * @distkv/ring: consistent hashing with virtual nodes and preference lists.
 *
 * For users and sibling packages alike (@distkv/quorum picks replicas with `preferenceList` /
 * `walk`; the server streams `rangesFor` on join and leave; gossip carries `toJSON` state or a
 * node's `tokensOf`). Everything not exported here is internal.
 */

export type { RingErrorOptions } from "./errors.js";
export {
  DuplicateNodeError,
  InvalidRingArgumentError,
  InvalidRingOptionsError,
  InvalidRingStateError,
  InvalidRingTokenError,
  isDuplicateNodeError,
  isInvalidRingArgumentError,
  isInvalidRingOptionsError,
  isInvalidRingStateError,
  isInvalidRingTokenError,
  isRingError,
  isUnknownNodeError,
  RingError,
  UnknownNodeError,
} from "./errors.js";
export type { AddNodeOptions, PreferenceListOptions } from "./hash-ring.js";
export { HashRing, vnodeTokens } from "./hash-ring.js";
export { murmurHash3x86128 } from "./murmur3.js";
export type { ResolvedRingOptions, RingOptions } from "./options.js";
export { DEFAULT_VIRTUAL_NODES, MAX_VIRTUAL_NODES, resolveRingOptions } from "./options.js";
export type { ReplicaRange } from "./ring-index.js";
export type { RingNodeState, RingState } from "./ring-state.js";
export { MAX_NODE_ID_LENGTH, RING_STATE_VERSION } from "./ring-state.js";
export type { RingKey, Token } from "./token.js";
export {
  formatToken,
  isToken,
  MAX_TOKEN,
  MIN_TOKEN,
  parseToken,
  RING_SIZE,
  tokenOf,
} from "./token.js";
export type { TokenRange } from "./token-range.js";
export { isFullRange, rangeContains, rangeSize } from "./token-range.js";
