/**
 * Errors of @distkv/history. One subclass per failure, each with a fixed `name`, so the
 * `isXError()` helpers work across duplicated module copies (they check `name`, never
 * `instanceof`). Checkers never throw for anomalies in a history: anomalies are results. They
 * throw only for input that is not a history at all, or for bad options.
 */

export interface HistoryErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class HistoryError extends Error {
  override name = "HistoryError";
  constructor(message: string, options?: HistoryErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * A history (or one operation of it) is malformed: a missing or mistyped field, completion
 * before invocation, duplicate ids, a JSONL line that is not JSON. `path` says where, e.g.
 * `[12].completeMs` or `line 7`.
 */
export class InvalidHistoryError extends HistoryError {
  override name = "InvalidHistoryError";
  readonly path: string;
  constructor(path: string, reason: string, options?: HistoryErrorOptions) {
    super(`invalid history at ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** `HistoryRecorder.invoke` or a handle's `ok`/`fail`/`info` got an unusable argument. */
export class InvalidOperationError extends HistoryError {
  override name = "InvalidOperationError";
}

/** `ok`, `fail` or `info` was called on an operation that already completed. */
export class OperationAlreadyCompletedError extends HistoryError {
  override name = "OperationAlreadyCompletedError";
  readonly operationId: number;
  constructor(operationId: number, options?: HistoryErrorOptions) {
    super(`operation ${operationId} has already completed`, options);
    this.operationId = operationId;
  }
}

/** Checker or recorder options failed validation; the message names the field. */
export class InvalidHistoryOptionsError extends HistoryError {
  override name = "InvalidHistoryOptionsError";
}

const HISTORY_ERROR_NAMES: ReadonlySet<string> = new Set([
  "HistoryError",
  "InvalidHistoryError",
  "InvalidOperationError",
  "OperationAlreadyCompletedError",
  "InvalidHistoryOptionsError",
]);

function nameOf(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
}

export function isHistoryError(e: unknown): e is HistoryError {
  const name = nameOf(e);
  return typeof name === "string" && HISTORY_ERROR_NAMES.has(name);
}
export function isInvalidHistoryError(e: unknown): e is InvalidHistoryError {
  return nameOf(e) === "InvalidHistoryError";
}
export function isInvalidOperationError(e: unknown): e is InvalidOperationError {
  return nameOf(e) === "InvalidOperationError";
}
export function isOperationAlreadyCompletedError(e: unknown): e is OperationAlreadyCompletedError {
  return nameOf(e) === "OperationAlreadyCompletedError";
}
export function isInvalidHistoryOptionsError(e: unknown): e is InvalidHistoryOptionsError {
  return nameOf(e) === "InvalidHistoryOptionsError";
}
