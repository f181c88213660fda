import { InvalidTimestampError } from "./errors.js";

/** True if `ms` is a valid wall-clock timestamp: an integer in [0, Number.MAX_SAFE_INTEGER]. */
export function isValidTimestamp(ms: unknown): ms is number {
  return typeof ms === "number" && Number.isSafeInteger(ms) && ms >= 0;
}

/** Throws InvalidTimestampError unless `ms` is a valid timestamp. */
export function assertValidTimestamp(ms: unknown): asserts ms is number {
  if (!isValidTimestamp(ms)) {
    throw new InvalidTimestampError(
      `timestampMs must be an integer in [0, ${Number.MAX_SAFE_INTEGER}], got ${String(ms)}`,
    );
  }
}
