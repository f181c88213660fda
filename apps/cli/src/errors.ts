/**
 * Errors of distkv-client. Every failure the CLI reports on purpose is one subclass with a fixed
 * `name` (the `isXError()` helpers check it, never `instanceof`) and the process exit code it
 * maps to, so scripts can tell "not there" from "bad command line" from "cluster in trouble".
 *
 * Connect errors from the server or the transport are translated into these by `toCliError()`
 * (rpc-errors.ts), with messages that name the address tried; no stack trace reaches the user.
 */

/**
 * Process exit codes. Part of the CLI's interface (scripts test them): never change a meaning.
 */
export const ExitCode = {
  /** The command did what was asked. */
  Ok: 0,
  /** `get`: the key has no live value. */
  NotFound: 1,
  /** The command line is wrong: unknown command or option, missing or malformed argument. */
  Usage: 2,
  /**
   * The request did not complete: the server is unreachable, timed out, is unavailable or
   * overloaded, or failed internally. Retrying later may help.
   */
  Unavailable: 3,
  /** The server refused the request as invalid (e.g. a value over its size limit). */
  Rejected: 4,
  /**
   * The command ran but part of it failed: `batch`, an operation (every result is printed);
   * `repair`, the comparison with a replica (e.g. one that is down).
   */
  PartialFailure: 5,
  /** A bug in the CLI itself (an error nobody anticipated). */
  Internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliErrorOptions {
  cause?: unknown;
}

/** Base class of every error the CLI reports on purpose. */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: CliErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
  }
}

/** The command line is wrong; `command` is the sub-command whose help to point at, if known. */
export class UsageError extends CliError {
  override name = "UsageError";
  readonly command: string | undefined;
  constructor(message: string, command?: string, options?: CliErrorOptions) {
    super(ExitCode.Usage, message, options);
    this.command = command;
  }
}

/** A duration such as `--timeout` is malformed or out of range. */
export class InvalidDurationError extends UsageError {
  override name = "InvalidDurationError";
}

/** No connection could be made (refused, unknown host, not an HTTP/2 server, ...). */
export class ServerUnreachableError extends CliError {
  override name = "ServerUnreachableError";
  readonly address: string;
  constructor(address: string, reason: string, options?: CliErrorOptions) {
    super(ExitCode.Unavailable, `cannot reach DistKV at ${address}: ${reason}`, options);
    this.address = address;
  }
}

/** The request's deadline (`--timeout`) passed before an answer arrived. */
export class RequestTimeoutError extends CliError {
  override name = "RequestTimeoutError";
  readonly address: string;
  readonly timeoutMs: number;
  constructor(address: string, timeoutMs: number, message: string, options?: CliErrorOptions) {
    super(ExitCode.Unavailable, message, options);
    this.address = address;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The server answered but could not serve the request now (unavailable, overloaded, aborted,
 * internal failure). `code` is the Connect code name, e.g. `unavailable`.
 */
export class ServerFailedError extends CliError {
  override name = "ServerFailedError";
  readonly code: string;
  constructor(code: string, message: string, options?: CliErrorOptions) {
    super(ExitCode.Unavailable, message, options);
    this.code = code;
  }
}

/** The server refused the request itself (invalid argument, unsupported, ...). */
export class RequestRejectedError extends CliError {
  override name = "RequestRejectedError";
  readonly code: string;
  constructor(code: string, message: string, options?: CliErrorOptions) {
    super(ExitCode.Rejected, message, options);
    this.code = code;
  }
}

const CLI_ERROR_NAMES = new Set([
  "CliError",
  "UsageError",
  "InvalidDurationError",
  "ServerUnreachableError",
  "RequestTimeoutError",
  "ServerFailedError",
  "RequestRejectedError",
]);

function hasName(e: unknown, names: ReadonlySet<string> | string): boolean {
  if (typeof e !== "object" || e === null) return false;
  const name = (e as { name?: unknown }).name;
  if (typeof name !== "string") return false;
  return typeof names === "string" ? name === names : names.has(name);
}

export function isCliError(e: unknown): e is CliError {
  return hasName(e, CLI_ERROR_NAMES);
}
export function isUsageError(e: unknown): e is UsageError {
  return hasName(e, "UsageError") || hasName(e, "InvalidDurationError");
}
export function isInvalidDurationError(e: unknown): e is InvalidDurationError {
  return hasName(e, "InvalidDurationError");
}
export function isServerUnreachableError(e: unknown): e is ServerUnreachableError {
  return hasName(e, "ServerUnreachableError");
}
export function isRequestTimeoutError(e: unknown): e is RequestTimeoutError {
  return hasName(e, "RequestTimeoutError");
}
export function isServerFailedError(e: unknown): e is ServerFailedError {
  return hasName(e, "ServerFailedError");
}
export function isRequestRejectedError(e: unknown): e is RequestRejectedError {
  return hasName(e, "RequestRejectedError");
}
