import { CONFLICT_POLICIES, type ConflictPolicy, majority } from "./consistency.js";
import { describe } from "./describe.js";
import { InvalidQuorumOptionsError } from "./errors.js";

/** Default replication factor N. */
export const DEFAULT_REPLICAS = 3;
/** Upper bound on N: far above any sensible value, low enough to catch typos. */
export const MAX_REPLICAS = 64;
/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Upper bound on any timeout (about 24 days: the largest delay `setTimeout` handles). */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/** Default key size limit (DESIGN.md: 1 KiB keys). */
export const DEFAULT_MAX_KEY_BYTES = 1024;
/** Default value size limit (DESIGN.md: 1 MiB values). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
/**
 * Default limit on an incoming causal context token. A token is about 16 bytes per node that
 * ever coordinated a write to the key; 64 KiB is thousands of nodes, while bounding what a
 * client can make the coordinator decode.
 */
export const DEFAULT_MAX_CONTEXT_BYTES = 64 * 1024;
/** Default bound on the hints one node stores for others. */
export const DEFAULT_MAX_HINTS = 10_000;
/** Default period of the hinted-handoff sweep. */
export const DEFAULT_HANDOFF_INTERVAL_MS = 10_000;
/** Default number of hints delivered per target per round. */
export const DEFAULT_HANDOFF_BATCH_SIZE = 100;
/** Default timeout for one hint delivery. */
export const DEFAULT_HANDOFF_TIMEOUT_MS = 5_000;
/** Default age after which a hint is dropped instead of delivered (3 hours, as Cassandra's window). */
export const DEFAULT_HINT_MAX_AGE_MS = 3 * 60 * 60 * 1000;

export interface QuorumOptions {
  /**
   * Replication factor N: each key lives on the first N distinct nodes of its preference list.
   * Every node of a cluster must use the same N. Integer in [1, 64].
   * @default 3
   */
  replicas?: number;
  /**
   * R: replies a read waits for when the request names no consistency level. In [1, N].
   * @default floor(N/2) + 1
   */
  readQuorum?: number;
  /**
   * W: acknowledgements a write waits for (the coordinator's own included) when the request
   * names no consistency level. In [1, N].
   * @default floor(N/2) + 1
   */
  writeQuorum?: number;
  /**
   * Deadline of a request that sets none. Background work of the request (late read replies,
   * read repair, replica writes past W) also stops at the deadline.
   * @default 5000
   */
  timeoutMs?: number;
  /** Largest key, in bytes. @default 1024 */
  maxKeyBytes?: number;
  /** Largest value, in bytes. @default 1048576 */
  maxValueBytes?: number;
  /** Largest causal context token a write may carry, in bytes. @default 65536 */
  maxContextBytes?: number;
  /**
   * Conflict policy of requests that set none. `siblings` keeps concurrent versions for the
   * reader to resolve; `lww` keeps the one with the greatest timestamp (losing the others).
   * @default "siblings"
   */
  conflictPolicy?: ConflictPolicy;
  /**
   * Whether acknowledgements from substitute nodes (hinted writes) count towards W for `one`,
   * `quorum` and configured-default writes. `all` never counts them: it means all N replicas.
   * With `false`, hinted writes are still sent (for durability), but W must be met by replicas.
   * @default true
   */
  sloppyQuorum?: boolean;
  /** Whether reads repair stale replicas in the background. @default true */
  readRepair?: boolean;
  /**
   * Share of reads that ask every live replica of the key (and so can repair them all). The
   * others ask only as many replicas as the read needs (this node first when it is one, then
   * in preference order) and ask the next replica when one fails or has not answered after
   * `speculativeRetryMs`: R + W > N still makes them see the latest acknowledged write, with
   * half the messages at N=3, R=2 (Cassandra's approach). Deterministic: every
   * round(1 / share)-th read asks all. 0 never asks more than needed.
   * @default 1
   */
  readAllShare?: number;
  /** See `readAllShare`. @default 50 */
  speculativeRetryMs?: number;
  /**
   * Dots take counters of at least the coordinator's clock in ms (vclock `update`'s
   * counterFloor), so that a key whose history was purged (tombstone GC) never reuses a dot a
   * replica that missed the purge still covers. Turn it on wherever tombstones are purged; it
   * costs about 5 bytes per actor in contexts and sibling sets.
   * @default false
   */
  timestampCounters?: boolean;
}

export interface ResolvedQuorumOptions {
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  readonly timeoutMs: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxContextBytes: number;
  readonly conflictPolicy: ConflictPolicy;
  readonly sloppyQuorum: boolean;
  readonly readRepair: boolean;
  readonly readAllShare: number;
  readonly speculativeRetryMs: number;
  readonly timestampCounters: boolean;
}

export interface ReplicaOptions {
  /**
   * Most hints this node stores for other nodes. A hinted write for a new (target, key) beyond
   * it is refused (HintQueueFullError, counted as dropped); anti-entropy heals the owner later.
   * @default 10000
   */
  maxHints?: number;
  /** Largest key accepted from a peer, in bytes. Use the coordinators' value. @default 1024 */
  maxKeyBytes?: number;
}

export interface ResolvedReplicaOptions {
  readonly maxHints: number;
  readonly maxKeyBytes: number;
}

export interface HintedHandoffOptions {
  /**
   * Period of the sweep that delivers hints to every live target (besides the delivery started
   * by each membership "up" event). 0 disables the sweep.
   * @default 10000
   */
  intervalMs?: number;
  /** Hints delivered per target per round (a round repeats while hints remain). @default 100 */
  batchSize?: number;
  /** Timeout of one hint delivery. @default 5000 */
  deliveryTimeoutMs?: number;
  /**
   * A hint older than this (since its oldest data was stored, by this node's clock) is deleted
   * instead of delivered, at delivery and on every sweep; anti-entropy repairs the owner
   * instead. Keep it well below the tombstone grace period: a hint delivered after its key's
   * tombstone was purged would bring the deleted value back. 0 keeps hints forever.
   * @default 10800000 (3 hours)
   */
  maxAgeMs?: number;
}

export interface ResolvedHintedHandoffOptions {
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly deliveryTimeoutMs: number;
  readonly maxAgeMs: number;
}

function checkObject(options: unknown, what: string, allowed: readonly string[]): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidQuorumOptionsError(`${what} must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidQuorumOptionsError(`unknown ${what} field ${JSON.stringify(key)}`);
    }
  }
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidQuorumOptionsError(
      `${name} must be an integer in [${min}, ${max}], got ${describe(value)}`,
    );
  }
  return value;
}

function share(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new InvalidQuorumOptionsError(
      `${name} must be a number in [0, 1], got ${describe(value)}`,
    );
  }
  return value;
}

function boolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new InvalidQuorumOptionsError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

const QUORUM_FIELDS = [
  "replicas",
  "readQuorum",
  "writeQuorum",
  "timeoutMs",
  "maxKeyBytes",
  "maxValueBytes",
  "maxContextBytes",
  "conflictPolicy",
  "sloppyQuorum",
  "readRepair",
  "readAllShare",
  "speculativeRetryMs",
  "timestampCounters",
] as const;

/** Validates coordinator options and returns a complete, frozen set with defaults filled in. */
export function resolveQuorumOptions(options: QuorumOptions = {}): ResolvedQuorumOptions {
  checkObject(options, "quorum options", QUORUM_FIELDS);
  const replicas = integer(options.replicas, "replicas", 1, MAX_REPLICAS, DEFAULT_REPLICAS);
  const readQuorum = integer(options.readQuorum, "readQuorum", 1, replicas, majority(replicas));
  const writeQuorum = integer(options.writeQuorum, "writeQuorum", 1, replicas, majority(replicas));
  const conflictPolicy = options.conflictPolicy ?? "siblings";
  if (!CONFLICT_POLICIES.includes(conflictPolicy)) {
    throw new InvalidQuorumOptionsError(
      `conflictPolicy must be "siblings" or "lww", got ${describe(conflictPolicy)}`,
    );
  }
  return Object.freeze({
    replicas,
    readQuorum,
    writeQuorum,
    timeoutMs: integer(options.timeoutMs, "timeoutMs", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
    maxKeyBytes: integer(
      options.maxKeyBytes,
      "maxKeyBytes",
      1,
      DEFAULT_MAX_VALUE_BYTES,
      DEFAULT_MAX_KEY_BYTES,
    ),
    maxValueBytes: integer(
      options.maxValueBytes,
      "maxValueBytes",
      0,
      1024 * 1024 * 1024,
      DEFAULT_MAX_VALUE_BYTES,
    ),
    maxContextBytes: integer(
      options.maxContextBytes,
      "maxContextBytes",
      2,
      16 * 1024 * 1024,
      DEFAULT_MAX_CONTEXT_BYTES,
    ),
    conflictPolicy,
    sloppyQuorum: boolean(options.sloppyQuorum, "sloppyQuorum", true),
    readRepair: boolean(options.readRepair, "readRepair", true),
    readAllShare: share(options.readAllShare, "readAllShare", 1),
    speculativeRetryMs: integer(
      options.speculativeRetryMs,
      "speculativeRetryMs",
      0,
      MAX_TIMEOUT_MS,
      50,
    ),
    timestampCounters: boolean(options.timestampCounters, "timestampCounters", false),
  });
}

/** Validates `Replica` options. */
export function resolveReplicaOptions(options: ReplicaOptions = {}): ResolvedReplicaOptions {
  checkObject(options, "replica options", ["maxHints", "maxKeyBytes"]);
  return Object.freeze({
    maxHints: integer(options.maxHints, "maxHints", 0, 1_000_000_000, DEFAULT_MAX_HINTS),
    maxKeyBytes: integer(
      options.maxKeyBytes,
      "maxKeyBytes",
      1,
      DEFAULT_MAX_VALUE_BYTES,
      DEFAULT_MAX_KEY_BYTES,
    ),
  });
}

/** Validates `HintedHandoff` options. */
export function resolveHintedHandoffOptions(
  options: HintedHandoffOptions = {},
): ResolvedHintedHandoffOptions {
  checkObject(options, "hinted handoff options", [
    "intervalMs",
    "batchSize",
    "deliveryTimeoutMs",
    "maxAgeMs",
  ]);
  return Object.freeze({
    intervalMs: integer(
      options.intervalMs,
      "intervalMs",
      0,
      MAX_TIMEOUT_MS,
      DEFAULT_HANDOFF_INTERVAL_MS,
    ),
    batchSize: integer(options.batchSize, "batchSize", 1, 100_000, DEFAULT_HANDOFF_BATCH_SIZE),
    deliveryTimeoutMs: integer(
      options.deliveryTimeoutMs,
      "deliveryTimeoutMs",
      1,
      MAX_TIMEOUT_MS,
      DEFAULT_HANDOFF_TIMEOUT_MS,
    ),
    maxAgeMs: integer(
      options.maxAgeMs,
      "maxAgeMs",
      0,
      Number.MAX_SAFE_INTEGER,
      DEFAULT_HINT_MAX_AGE_MS,
    ),
  });
}
