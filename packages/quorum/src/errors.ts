/**
 * Errors of @distkv/quorum. One subclass per failure, each with a fixed `name`; the `isXError()`
 * helpers check the name, never `instanceof`, so they work across duplicated module copies. The
 * server maps them to Connect codes at the RPC edge:
 *
 * | error                         | Connect code        |
 * | ----------------------------- | ------------------- |
 * | InvalidArgumentError          | invalid_argument    |
 * | UnavailableError              | unavailable         |
 * | DeadlineExceededError         | deadline_exceeded   |
 * | AbortedError                  | canceled            |
 * | NotCoordinatorError           | failed_precondition (or forward the request) |
 * | HintQueueFullError            | resource_exhausted  |
 * | InvalidQuorumOptionsError     | (startup failure)   |
 *
 * `InvalidArgumentError`, `UnavailableError` and `DeadlineExceededError` share their names with
 * @distkv/rpc's classes on purpose: both map to the same Connect code. The quorum versions carry
 * more fields (`needed`, `answered`, ...); test for them before reading them.
 */

export interface QuorumErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class QuorumError extends Error {
  override name = "QuorumError";
  constructor(message: string, options?: QuorumErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Options given to a constructor failed validation; the message names the field. */
export class InvalidQuorumOptionsError extends QuorumError {
  override name = "InvalidQuorumOptionsError";
}

/** What an `InvalidArgumentError` is about. */
export type InvalidArgumentField =
  | "key"
  | "value"
  | "context"
  | "consistency"
  | "conflictPolicy"
  | "timeoutMs"
  | "signal"
  | "siblings"
  | "hintFor";

/**
 * A request argument is unusable: empty or oversized key, oversized value, malformed context
 * token, unknown consistency level, ... Nothing was written. The message names the problem and,
 * for size limits, the limit.
 */
export class InvalidArgumentError extends QuorumError {
  override name = "InvalidArgumentError";
  readonly field: InvalidArgumentField;
  constructor(field: InvalidArgumentField, message: string, options?: QuorumErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

/** Why one replica did not count towards a quorum. */
export interface ReplicaFailure {
  readonly nodeId: string;
  /**
   * `down`: the membership view reports it down and no substitute was available (or allowed);
   * `error`: the call failed (the message and `cause` say how).
   */
  readonly reason: "down" | "error";
  readonly message: string;
  readonly cause?: unknown;
}

export type QuorumOperation = "read" | "write";

/**
 * Fewer replicas than the consistency level needs are alive, or enough of them failed that the
 * level can no longer be met. Thrown as soon as that is known, never after waiting out the
 * deadline. A write that fails this way may still have been applied on the replicas that
 * answered (`answered`): it is neither acknowledged nor rolled back, and later reads may see it.
 */
export class UnavailableError extends QuorumError {
  override name = "UnavailableError";
  readonly operation: QuorumOperation;
  /** Replies (reads) or acknowledgements (writes) the request needed. */
  readonly needed: number;
  /** Replies or acknowledgements it got before giving up. */
  readonly answered: number;
  /** The replicas that did not count, and why. */
  readonly failed: readonly ReplicaFailure[];
  constructor(
    operation: QuorumOperation,
    needed: number,
    answered: number,
    failed: readonly ReplicaFailure[],
    detail?: string,
    options?: QuorumErrorOptions,
  ) {
    const list = failed.map((f) => `${f.nodeId} (${f.reason}: ${f.message})`).join(", ");
    super(
      `${operation} unavailable: needed ${needed} replicas, ${answered} answered` +
        (detail === undefined ? "" : `; ${detail}`) +
        (list === "" ? "" : `; failed: ${list}`),
      options,
    );
    this.operation = operation;
    this.needed = needed;
    this.answered = answered;
    this.failed = failed;
  }
}

/**
 * The request's timeout passed before enough replicas answered. As with UnavailableError, a write
 * may have been applied on some replicas.
 */
export class DeadlineExceededError extends QuorumError {
  override name = "DeadlineExceededError";
  readonly operation: QuorumOperation;
  readonly timeoutMs: number;
  readonly needed: number;
  readonly answered: number;
  /** Replicas that had not answered when the deadline passed. */
  readonly pending: readonly string[];
  /** Replicas that failed before the deadline. */
  readonly failed: readonly ReplicaFailure[];
  constructor(
    operation: QuorumOperation,
    timeoutMs: number,
    needed: number,
    answered: number,
    pending: readonly string[],
    failed: readonly ReplicaFailure[],
    options?: QuorumErrorOptions,
  ) {
    super(
      `${operation} deadline of ${timeoutMs} ms exceeded: needed ${needed} replicas, ${answered} answered` +
        (pending.length === 0 ? "" : `; no answer from ${pending.join(", ")}`) +
        (failed.length === 0 ? "" : `; failed: ${failed.map((f) => f.nodeId).join(", ")}`),
      options,
    );
    this.operation = operation;
    this.timeoutMs = timeoutMs;
    this.needed = needed;
    this.answered = answered;
    this.pending = pending;
    this.failed = failed;
  }
}

/** The caller's AbortSignal fired, or the component was stopped. `cause` is the abort reason. */
export class AbortedError extends QuorumError {
  override name = "AbortedError";
}

/**
 * A write reached a node that is not one of the key's N replicas. Only replicas may coordinate
 * writes: the new version's dot is taken from the coordinator's own stored copy, and a node that
 * does not store the key could hand out a dot twice. Forward the write to `coordinator`.
 */
export class NotCoordinatorError extends QuorumError {
  override name = "NotCoordinatorError";
  readonly nodeId: string;
  /** The first live replica of the key, if any (what `coordinatorFor` returns). */
  readonly coordinator: string | undefined;
  readonly preferenceList: readonly string[];
  constructor(nodeId: string, coordinator: string | undefined, preferenceList: readonly string[]) {
    super(
      `node ${JSON.stringify(nodeId)} is not a replica of this key (replicas: ${preferenceList.join(", ") || "none"}); ` +
        (coordinator === undefined
          ? "no replica is alive"
          : `forward to ${JSON.stringify(coordinator)}`),
    );
    this.nodeId = nodeId;
    this.coordinator = coordinator;
    this.preferenceList = preferenceList;
  }
}

/**
 * A substitute node refused a hinted write because its hint store holds `maxHints` hints
 * already. The hint is dropped (counted in stats); anti-entropy heals the owner later.
 */
export class HintQueueFullError extends QuorumError {
  override name = "HintQueueFullError";
  readonly maxHints: number;
  constructor(maxHints: number, options?: QuorumErrorOptions) {
    super(`hint queue full: ${maxHints} hints stored, hint dropped`, options);
    this.maxHints = maxHints;
  }
}

const QUORUM_ERROR_NAMES: ReadonlySet<string> = new Set([
  "QuorumError",
  "InvalidQuorumOptionsError",
  "InvalidArgumentError",
  "UnavailableError",
  "DeadlineExceededError",
  "AbortedError",
  "NotCoordinatorError",
  "HintQueueFullError",
]);

function nameOf(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
}

/** Any error of this package (also matches same-named errors of sibling packages). */
export function isQuorumError(e: unknown): e is QuorumError {
  const name = nameOf(e);
  return typeof name === "string" && QUORUM_ERROR_NAMES.has(name);
}
export function isInvalidQuorumOptionsError(e: unknown): e is InvalidQuorumOptionsError {
  return nameOf(e) === "InvalidQuorumOptionsError";
}
export function isInvalidArgumentError(e: unknown): e is InvalidArgumentError {
  return nameOf(e) === "InvalidArgumentError";
}
export function isUnavailableError(e: unknown): e is UnavailableError {
  return nameOf(e) === "UnavailableError";
}
export function isDeadlineExceededError(e: unknown): e is DeadlineExceededError {
  return nameOf(e) === "DeadlineExceededError";
}
export function isAbortedError(e: unknown): e is AbortedError {
  return nameOf(e) === "AbortedError";
}
export function isNotCoordinatorError(e: unknown): e is NotCoordinatorError {
  return nameOf(e) === "NotCoordinatorError";
}
export function isHintQueueFullError(e: unknown): e is HintQueueFullError {
  return nameOf(e) === "HintQueueFullError";
}
