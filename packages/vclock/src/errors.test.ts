import { describe, expect, it } from "vitest";
import * as errors from "./errors.js";

const classes = [
  [errors.InvalidContextError, errors.isInvalidContextError],
  [errors.InvalidEncodingError, errors.isInvalidEncodingError],
  [errors.InvalidActorError, errors.isInvalidActorError],
  [errors.InvalidVersionVectorError, errors.isInvalidVersionVectorError],
  [errors.InvalidSiblingSetError, errors.isInvalidSiblingSetError],
  [errors.InvalidTimestampError, errors.isInvalidTimestampError],
  [errors.CounterOverflowError, errors.isCounterOverflowError],
  [errors.LimitExceededError, errors.isLimitExceededError],
  [errors.InvalidOptionsError, errors.isInvalidOptionsError],
] as const;

describe("errors", () => {
  it("each class has its own fixed name, keeps its cause, and only its own isXError matches", () => {
    for (const [Cls, is] of classes) {
      const cause = new Error("root");
      const e =
        Cls === errors.InvalidContextError || Cls === errors.InvalidEncodingError
          ? new Cls("m", 3, { cause })
          : new (Cls as typeof errors.InvalidActorError)("m", { cause });
      expect(e.name).toBe(Cls.name);
      expect(e.cause).toBe(cause);
      expect(e).toBeInstanceOf(Error);
      expect(is(e)).toBe(true);
      expect(errors.isVclockError(e)).toBe(true);
      for (const [Other, otherIs] of classes) if (Other !== Cls) expect(otherIs(e)).toBe(false);
    }
  });

  it("isXError checks the name, so errors from another copy of the package match", () => {
    const foreign = Object.assign(new Error("x"), { name: "InvalidEncodingError" });
    expect(errors.isInvalidEncodingError(foreign)).toBe(true);
    expect(errors.isVclockError(foreign)).toBe(true);
    expect(errors.isVclockError(new TypeError("x"))).toBe(false);
    expect(errors.isVclockError(null)).toBe(false);
    expect(errors.isInvalidContextError("InvalidContextError")).toBe(false);
  });

  it("decode errors carry the failing offset; no cause unless given", () => {
    const e = new errors.InvalidContextError("m", 7);
    expect(e.offset).toBe(7);
    expect("cause" in e).toBe(false);
  });
});
