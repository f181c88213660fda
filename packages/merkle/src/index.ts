/**
 * @distkv/merkle: incremental Merkle trees over token ranges, and the exchange that finds the
 * keys two replicas hold differently while transferring only what differs.
 *
 * Public for users and sibling apps alike (the server's anti-entropy builds one tree per
 * replicated range and answers exchanges over its peer channel). The wire constants and
 * codecs are exported for transports that want to inspect or bound messages. Everything not
 * exported here is internal.
 */

export {
  DEFAULT_BULK_FETCH_LIMIT,
  DEFAULT_FETCH_THRESHOLD,
  DEFAULT_MAX_REQUEST_NODES,
  type DiffOptions,
  diffTrees,
  inProcessRemote,
  type KeyDifference,
  type RemoteTree,
  type TreeDiff,
} from "./diff.js";
export { DIGEST_BYTES, entryDigest } from "./digest.js";
export {
  InvalidMerkleArgumentError,
  InvalidMerkleOptionsError,
  isInvalidMerkleArgumentError,
  isInvalidMerkleOptionsError,
  isMerkleError,
  isMerkleProtocolError,
  isMerkleShapeMismatchError,
  MerkleError,
  type MerkleErrorOptions,
  MerkleProtocolError,
  MerkleShapeMismatchError,
} from "./errors.js";
export {
  type AnswerOptions,
  DEFAULT_MAX_REPLY_BYTES,
  type MerkleEntry,
  type MerkleNode,
  MerkleTree,
  parseNodes,
  type VersionedEntry,
} from "./merkle-tree.js";
export {
  DEFAULT_DEPTH,
  DEFAULT_FANOUT,
  MAX_FANOUT,
  MAX_LEAVES,
  MAX_LEVEL_NODES,
  type MerkleTreeOptions,
  type ResolvedMerkleTreeOptions,
  resolveMerkleTreeOptions,
} from "./options.js";
export { RING_SIZE, type TokenRange, tokenRangeSize } from "./range.js";
export {
  MAX_QUERIES,
  MAX_QUERY_LEVEL,
  MAX_REQUEST_NODES,
  MERKLE_FORMAT_V1,
  QueryKind,
} from "./wire.js";
