/**
 * Errors of @distkv/rpc. One subclass per failure, each with a fixed `name` (checked by the
 * `isXError()` helpers, never `instanceof`, so that two copies of this package agree) and the
 * Connect status `code` it maps to at the RPC edge.
 *
 * These deliberately do not extend ConnectError: ConnectError's `instanceof` check requires
 * `name === "ConnectError"`, which would clash with our fixed names. `toConnectError()` converts
 * at the edge; `codeOf()` reads the code of either kind.
 */
import { Code, ConnectError } from "@connectrpc/connect";

export interface RpcErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class RpcError extends Error {
  override name = "RpcError";
  /** The Connect / gRPC status code this failure maps to. */
  readonly code: Code;
  constructor(code: Code, message: string, options?: RpcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The call's deadline passed before a reply arrived; the call was removed from the channel. */
export class DeadlineExceededError extends RpcError {
  override name = "DeadlineExceededError";
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options?: RpcErrorOptions) {
    super(Code.DeadlineExceeded, message, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The peer cannot be reached: its stream failed (every call pending on it fails with this), or
 * the channel is waiting to reconnect. `peer` names the remote address.
 */
export class UnavailableError extends RpcError {
  override name = "UnavailableError";
  readonly peer: string;
  constructor(peer: string, message: string, options?: RpcErrorOptions) {
    super(Code.Unavailable, `peer ${peer}: ${message}`, options);
    this.peer = peer;
  }
}

/**
 * A limit refused the call: too many callers already waiting for a slot, or a single call
 * larger than the largest frame the channel may send.
 */
export class ResourceExhaustedError extends RpcError {
  override name = "ResourceExhaustedError";
  constructor(message: string, options?: RpcErrorOptions) {
    super(Code.ResourceExhausted, message, options);
  }
}

/** The caller's AbortSignal fired before the call completed. The reason is the cause. */
export class CanceledError extends RpcError {
  override name = "CanceledError";
  constructor(message: string, options?: RpcErrorOptions) {
    super(Code.Canceled, message, options);
  }
}

/** The channel was closed by its owner; calls made or pending after that fail with this. */
export class ChannelClosedError extends RpcError {
  override name = "ChannelClosedError";
  constructor(message: string, options?: RpcErrorOptions) {
    super(Code.Canceled, message, options);
  }
}

/** The remote handler failed; `code` and the message are the ones the remote side sent. */
export class RemoteError extends RpcError {
  override name = "RemoteError";
  /** The call kind (oneof case) that failed. */
  readonly kind: string;
  constructor(code: Code, message: string, kind: string, options?: RpcErrorOptions) {
    super(code, message, options);
    this.kind = kind;
  }
}

/** The other side broke the frame conventions (a reply of the wrong kind, a frame without body). */
export class ProtocolError extends RpcError {
  override name = "ProtocolError";
  constructor(message: string, options?: RpcErrorOptions) {
    super(Code.Internal, message, options);
  }
}

/** An option or argument is outside what the API accepts. */
export class InvalidArgumentError extends RpcError {
  override name = "InvalidArgumentError";
  constructor(message: string, options?: RpcErrorOptions) {
    super(Code.InvalidArgument, message, options);
  }
}

function hasName(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

const RPC_ERROR_NAMES = new Set([
  "RpcError",
  "DeadlineExceededError",
  "UnavailableError",
  "ResourceExhaustedError",
  "CanceledError",
  "ChannelClosedError",
  "RemoteError",
  "ProtocolError",
  "InvalidArgumentError",
]);

export function isRpcError(err: unknown): err is RpcError {
  return err instanceof Error && RPC_ERROR_NAMES.has(err.name) && "code" in err;
}
export function isDeadlineExceededError(err: unknown): err is DeadlineExceededError {
  return hasName(err, "DeadlineExceededError");
}
export function isUnavailableError(err: unknown): err is UnavailableError {
  return hasName(err, "UnavailableError");
}
export function isResourceExhaustedError(err: unknown): err is ResourceExhaustedError {
  return hasName(err, "ResourceExhaustedError");
}
export function isCanceledError(err: unknown): err is CanceledError {
  return hasName(err, "CanceledError");
}
export function isChannelClosedError(err: unknown): err is ChannelClosedError {
  return hasName(err, "ChannelClosedError");
}
export function isRemoteError(err: unknown): err is RemoteError {
  return hasName(err, "RemoteError");
}
export function isProtocolError(err: unknown): err is ProtocolError {
  return hasName(err, "ProtocolError");
}
export function isInvalidArgumentError(err: unknown): err is InvalidArgumentError {
  return hasName(err, "InvalidArgumentError");
}

/** A valid non-OK status code number (1..16), or undefined. */
export function asStatusCode(n: unknown): Code | undefined {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 16
    ? (n as Code)
    : undefined;
}

/**
 * The status code of any error: ours, a ConnectError, anything else with a valid numeric
 * `code` (1..16); otherwise `fallback`. AbortError/TimeoutError map to CANCELED.
 */
export function codeOf(err: unknown, fallback: Code = Code.Unknown): Code {
  if (err instanceof ConnectError) return err.code;
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) {
    return Code.Canceled;
  }
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = asStatusCode((err as { code: unknown }).code);
    if (code !== undefined) return code;
  }
  return fallback;
}

/** The message of an error without ConnectError's "[code]" prefix. */
export function messageOf(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Converts at the Connect edge: our errors keep their code and message. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  return new ConnectError(messageOf(err), codeOf(err), undefined, undefined, err);
}
