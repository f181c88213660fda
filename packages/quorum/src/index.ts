/**
 * @distkv/quorum: the DistKV coordinator. Quorum reads and writes over a key's N replicas with
 * per-request consistency, read repair, sloppy quorums with hinted handoff, and the receiving
 * side of replication. Transport-agnostic: the server plugs in its peer channel, LSM-backed
 * stores and gossip membership through the interfaces below; tests use `@distkv/quorum/testing`.
 *
 * For the server (and other embedders): everything here. Files not re-exported are internal.
 */

export { type Clock, systemClock } from "./clock.js";
export {
  CONFLICT_POLICIES,
  CONSISTENCY_LEVELS,
  type ConflictPolicy,
  type Consistency,
  majority,
  replicasNeeded,
} from "./consistency.js";
export { Coordinator, type CoordinatorInit } from "./coordinator.js";
export {
  AbortedError,
  DeadlineExceededError,
  HintQueueFullError,
  InvalidArgumentError,
  type InvalidArgumentField,
  InvalidQuorumOptionsError,
  isAbortedError,
  isDeadlineExceededError,
  isHintQueueFullError,
  isInvalidArgumentError,
  isInvalidQuorumOptionsError,
  isNotCoordinatorError,
  isQuorumError,
  isUnavailableError,
  NotCoordinatorError,
  QuorumError,
  type QuorumErrorOptions,
  type QuorumOperation,
  type ReplicaFailure,
  UnavailableError,
} from "./errors.js";
export type { Hint, HintPutResult, HintStore } from "./hint-store.js";
export { type HandoffResult, HintedHandoff, type HintedHandoffInit } from "./hinted-handoff.js";
export { InMemoryHintStore } from "./in-memory-hint-store.js";
export { InMemoryReplicaStore } from "./in-memory-replica-store.js";
export type { QuorumKey } from "./key.js";
export { type QuorumLogger, silentLogger } from "./logger.js";
export type { MembershipEvent, MembershipView } from "./membership-view.js";
export {
  DEFAULT_HANDOFF_BATCH_SIZE,
  DEFAULT_HANDOFF_INTERVAL_MS,
  DEFAULT_HANDOFF_TIMEOUT_MS,
  DEFAULT_MAX_CONTEXT_BYTES,
  DEFAULT_MAX_HINTS,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_REPLICAS,
  DEFAULT_TIMEOUT_MS,
  type HintedHandoffOptions,
  MAX_REPLICAS,
  MAX_TIMEOUT_MS,
  type QuorumOptions,
  type ReplicaOptions,
  type ResolvedHintedHandoffOptions,
  type ResolvedQuorumOptions,
  type ResolvedReplicaOptions,
  resolveHintedHandoffOptions,
  resolveQuorumOptions,
  resolveReplicaOptions,
} from "./options.js";
export { Replica, type ReplicaInit, type ReplicaWriteRequestOptions } from "./replica.js";
export type { ReplicaStore } from "./replica-store.js";
export type {
  ReplicaCallOptions,
  ReplicaTransport,
  ReplicaWriteOptions,
  SiblingPayload,
} from "./replica-transport.js";
export type {
  GetResult,
  ReadValue,
  RequestOptions,
  WriteOptions,
  WriteResult,
} from "./request.js";
export { QuorumStats, type QuorumStatsSnapshot } from "./stats.js";
