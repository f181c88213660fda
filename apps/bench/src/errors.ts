/**
 * One Error subclass per failure of the bench tool. Test them with the `isXError()` helpers,
 * which check `name` rather than `instanceof` (two copies of this module must agree).
 */

export interface BenchErrorOptions {
  cause?: unknown;
}

/** An option or flag is out of range or contradicts another one. */
export class BenchOptionsError extends Error {
  override readonly name = "BenchOptionsError";
  constructor(message: string, options?: BenchErrorOptions) {
    super(message, options);
  }
}

/**
 * A target's server binary is not installed. The run goes on without that target and says
 * which Debian package installs it (`installHint`).
 */
export class TargetUnavailableError extends Error {
  override readonly name = "TargetUnavailableError";
  readonly target: string;
  readonly installHint: string;
  constructor(target: string, message: string, installHint: string, options?: BenchErrorOptions) {
    super(message, options);
    this.target = target;
    this.installHint = installHint;
  }
}

/** A server process exited, or did not become ready, while a target was starting. */
export class TargetStartError extends Error {
  override readonly name = "TargetStartError";
  readonly target: string;
  constructor(target: string, message: string, options?: BenchErrorOptions) {
    super(message, options);
    this.target = target;
  }
}

/** The run was stopped (Ctrl-C, SIGTERM or an abort signal) before it finished. */
export class BenchAbortedError extends Error {
  override readonly name = "BenchAbortedError";
  constructor(message = "benchmark aborted", options?: BenchErrorOptions) {
    super(message, options);
  }
}

function hasName(e: unknown, name: string): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === name;
}

export function isBenchOptionsError(e: unknown): e is BenchOptionsError {
  return hasName(e, "BenchOptionsError");
}
export function isTargetUnavailableError(e: unknown): e is TargetUnavailableError {
  return hasName(e, "TargetUnavailableError");
}
export function isTargetStartError(e: unknown): e is TargetStartError {
  return hasName(e, "TargetStartError");
}
export function isBenchAbortedError(e: unknown): e is BenchAbortedError {
  return hasName(e, "BenchAbortedError");
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
