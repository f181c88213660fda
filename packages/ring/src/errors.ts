/**
 * Errors of @distkv/ring. One subclass per failure, each with a fixed `name`, so the `isXError()`
 * helpers work across duplicated module copies (they check `name`, never `instanceof`). Names are
 * ring-specific where a generic one ("InvalidArgumentError") is already used by a sibling package.
 */

export interface RingErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class RingError extends Error {
  override name = "RingError";
  constructor(message: string, options?: RingErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** `RingOptions` (or per-node options) failed validation; the message names the field. */
export class InvalidRingOptionsError extends RingError {
  override name = "InvalidRingOptionsError";
}

/** Serialised ring state (`HashRing.fromJSON`) is malformed; the message gives the JSON path. */
export class InvalidRingStateError extends RingError {
  override name = "InvalidRingStateError";
  /** Where in the state the problem is, e.g. `nodes[2].tokens[7]`. */
  readonly path: string;
  constructor(path: string, reason: string, options?: RingErrorOptions) {
    super(`invalid ring state at ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** A token is not an integer in [0, 2^64), or a node's explicit token list is unusable. */
export class InvalidRingTokenError extends RingError {
  override name = "InvalidRingTokenError";
}

/** A key, node id, replica count or similar argument has the wrong type or range. */
export class InvalidRingArgumentError extends RingError {
  override name = "InvalidRingArgumentError";
}

/** `addNode` with an id that is already on the ring. */
export class DuplicateNodeError extends RingError {
  override name = "DuplicateNodeError";
  readonly nodeId: string;
  constructor(nodeId: string, options?: RingErrorOptions) {
    super(`node ${JSON.stringify(nodeId)} is already on the ring`, options);
    this.nodeId = nodeId;
  }
}

/** An operation named a node id that is not on the ring. */
export class UnknownNodeError extends RingError {
  override name = "UnknownNodeError";
  readonly nodeId: string;
  constructor(nodeId: string, options?: RingErrorOptions) {
    super(`node ${JSON.stringify(nodeId)} is not on the ring`, options);
    this.nodeId = nodeId;
  }
}

const RING_ERROR_NAMES: ReadonlySet<string> = new Set([
  "RingError",
  "InvalidRingOptionsError",
  "InvalidRingStateError",
  "InvalidRingTokenError",
  "InvalidRingArgumentError",
  "DuplicateNodeError",
  "UnknownNodeError",
]);

function nameOf(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
}

export function isRingError(e: unknown): e is RingError {
  const name = nameOf(e);
  return typeof name === "string" && RING_ERROR_NAMES.has(name);
}
export function isInvalidRingOptionsError(e: unknown): e is InvalidRingOptionsError {
  return nameOf(e) === "InvalidRingOptionsError";
}
export function isInvalidRingStateError(e: unknown): e is InvalidRingStateError {
  return nameOf(e) === "InvalidRingStateError";
}
export function isInvalidRingTokenError(e: unknown): e is InvalidRingTokenError {
  return nameOf(e) === "InvalidRingTokenError";
}
export function isInvalidRingArgumentError(e: unknown): e is InvalidRingArgumentError {
  return nameOf(e) === "InvalidRingArgumentError";
}
export function isDuplicateNodeError(e: unknown): e is DuplicateNodeError {
  return nameOf(e) === "DuplicateNodeError";
}
export function isUnknownNodeError(e: unknown): e is UnknownNodeError {
  return nameOf(e) === "UnknownNodeError";
}
