/**
 * Errors thrown by @distkv/vclock. One subclass per failure, each with a fixed `name`.
 * Callers (and other packages, which may load a different copy of this module) should test
 * with the `isXError()` helpers, which check `name`, never `instanceof`.
 */

interface ErrorOptionsWithCause {
  readonly cause?: unknown;
}

function errorOptions(options: ErrorOptionsWithCause | undefined): ErrorOptions | undefined {
  return options !== undefined && "cause" in options ? { cause: options.cause } : undefined;
}

function hasName(error: unknown, name: string): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;
}

/** A causal context token (encoded version vector) is malformed, truncated or has trailing bytes. */
export class InvalidContextError extends Error {
  override readonly name = "InvalidContextError";
  /** Byte offset in the token where decoding failed, when known. */
  readonly offset: number | undefined;
  constructor(message: string, offset?: number, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
    this.offset = offset;
  }
}

/** An encoded sibling set is malformed, truncated, has trailing bytes or breaks an invariant. */
export class InvalidEncodingError extends Error {
  override readonly name = "InvalidEncodingError";
  /** Byte offset in the buffer where decoding failed, when known. */
  readonly offset: number | undefined;
  constructor(message: string, offset?: number, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
    this.offset = offset;
  }
}

/** An actor id is not a non-empty, well-formed string of at most MAX_ACTOR_BYTES UTF-8 bytes. */
export class InvalidActorError extends Error {
  override readonly name = "InvalidActorError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** A version vector given by the caller is not sorted, has duplicates or bad counters. */
export class InvalidVersionVectorError extends Error {
  override readonly name = "InvalidVersionVectorError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** A sibling set given by the caller breaks an invariant (see `siblingSet()`). */
export class InvalidSiblingSetError extends Error {
  override readonly name = "InvalidSiblingSetError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** A timestamp is not an integer number of milliseconds in [0, Number.MAX_SAFE_INTEGER]. */
export class InvalidTimestampError extends Error {
  override readonly name = "InvalidTimestampError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** Incrementing a counter would pass Number.MAX_SAFE_INTEGER (precision would be lost). */
export class CounterOverflowError extends Error {
  override readonly name = "CounterOverflowError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** Encoding refused: the value is over a codec limit (so it would not decode with the same limits). */
export class LimitExceededError extends Error {
  override readonly name = "LimitExceededError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

/** Codec options are out of range. */
export class InvalidOptionsError extends Error {
  override readonly name = "InvalidOptionsError";
  constructor(message: string, options?: ErrorOptionsWithCause) {
    super(message, errorOptions(options));
  }
}

export function isInvalidContextError(error: unknown): error is InvalidContextError {
  return hasName(error, "InvalidContextError");
}
export function isInvalidEncodingError(error: unknown): error is InvalidEncodingError {
  return hasName(error, "InvalidEncodingError");
}
export function isInvalidActorError(error: unknown): error is InvalidActorError {
  return hasName(error, "InvalidActorError");
}
export function isInvalidVersionVectorError(error: unknown): error is InvalidVersionVectorError {
  return hasName(error, "InvalidVersionVectorError");
}
export function isInvalidSiblingSetError(error: unknown): error is InvalidSiblingSetError {
  return hasName(error, "InvalidSiblingSetError");
}
export function isInvalidTimestampError(error: unknown): error is InvalidTimestampError {
  return hasName(error, "InvalidTimestampError");
}
export function isCounterOverflowError(error: unknown): error is CounterOverflowError {
  return hasName(error, "CounterOverflowError");
}
export function isLimitExceededError(error: unknown): error is LimitExceededError {
  return hasName(error, "LimitExceededError");
}
export function isInvalidOptionsError(error: unknown): error is InvalidOptionsError {
  return hasName(error, "InvalidOptionsError");
}

const VCLOCK_ERROR_NAMES: ReadonlySet<string> = new Set([
  "InvalidContextError",
  "InvalidEncodingError",
  "InvalidActorError",
  "InvalidVersionVectorError",
  "InvalidSiblingSetError",
  "InvalidTimestampError",
  "CounterOverflowError",
  "LimitExceededError",
  "InvalidOptionsError",
]);

/** True for any error thrown by this package. */
export function isVclockError(error: unknown): error is Error {
  return (
    typeof error === "object" &&
    error !== null &&
    VCLOCK_ERROR_NAMES.has((error as { name?: unknown }).name as string)
  );
}
