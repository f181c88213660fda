/**
 * Errors of @distkv/gossip. One subclass per failure, each with a fixed `name`, so the
 * `isXError()` helpers work across duplicated module copies (they check `name`, never
 * `instanceof`).
 */

export interface GossipErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class GossipError extends Error {
  override name = "GossipError";
  constructor(message: string, options?: GossipErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** `GossipConfig` failed validation (`resolveGossipConfig`); the message names the field. */
export class InvalidGossipConfigError extends GossipError {
  override name = "InvalidGossipConfigError";
}

/** An argument (node id, address, metadata, phase, seed list) has the wrong type or size. */
export class InvalidGossipArgumentError extends GossipError {
  override name = "InvalidGossipArgumentError";
}

/** Bytes received from the network are not a well-formed gossip message of this version. */
export class GossipDecodeError extends GossipError {
  override name = "GossipDecodeError";
}

/** A method was called in the wrong lifecycle state (e.g. `join` before `start`, `start` twice). */
export class GossipLifecycleError extends GossipError {
  override name = "GossipLifecycleError";
}

/** `join` reached none of the seeds; `cause` is the last failure (an AggregateError of all). */
export class GossipJoinError extends GossipError {
  override name = "GossipJoinError";
}

/** A push-pull exchange failed or timed out. */
export class PushPullError extends GossipError {
  override name = "PushPullError";
}

/** The operation was aborted by its `AbortSignal` or by `stop()`. */
export class GossipAbortedError extends GossipError {
  override name = "GossipAbortedError";
}

const GOSSIP_ERROR_NAMES: ReadonlySet<string> = new Set([
  "GossipError",
  "InvalidGossipConfigError",
  "InvalidGossipArgumentError",
  "GossipDecodeError",
  "GossipLifecycleError",
  "GossipJoinError",
  "PushPullError",
  "GossipAbortedError",
]);

function nameOf(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
}

export function isGossipError(e: unknown): e is GossipError {
  const name = nameOf(e);
  return typeof name === "string" && GOSSIP_ERROR_NAMES.has(name);
}
export function isInvalidGossipConfigError(e: unknown): e is InvalidGossipConfigError {
  return nameOf(e) === "InvalidGossipConfigError";
}
export function isInvalidGossipArgumentError(e: unknown): e is InvalidGossipArgumentError {
  return nameOf(e) === "InvalidGossipArgumentError";
}
export function isGossipDecodeError(e: unknown): e is GossipDecodeError {
  return nameOf(e) === "GossipDecodeError";
}
export function isGossipLifecycleError(e: unknown): e is GossipLifecycleError {
  return nameOf(e) === "GossipLifecycleError";
}
export function isGossipJoinError(e: unknown): e is GossipJoinError {
  return nameOf(e) === "GossipJoinError";
}
export function isPushPullError(e: unknown): e is PushPullError {
  return nameOf(e) === "PushPullError";
}
export function isGossipAbortedError(e: unknown): e is GossipAbortedError {
  return nameOf(e) === "GossipAbortedError";
}
