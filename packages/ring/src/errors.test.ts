import { describe, expect, it } from "vitest";
import {
  DuplicateNodeError,
  InvalidRingArgumentError,
  InvalidRingOptionsError,
  InvalidRingStateError,
  InvalidRingTokenError,
  isDuplicateNodeError,
  isInvalidRingArgumentError,
  isInvalidRingOptionsError,
  isInvalidRingStateError,
  isInvalidRingTokenError,
  isRingError,
  isUnknownNodeError,
  RingError,
  UnknownNodeError,
} from "./errors.js";

describe("errors", () => {
  const cases: [Error, (e: unknown) => boolean, string][] = [
    [new InvalidRingOptionsError("x"), isInvalidRingOptionsError, "InvalidRingOptionsError"],
    [new InvalidRingStateError("$.a", "bad"), isInvalidRingStateError, "InvalidRingStateError"],
    [new InvalidRingTokenError("x"), isInvalidRingTokenError, "InvalidRingTokenError"],
    [new InvalidRingArgumentError("x"), isInvalidRingArgumentError, "InvalidRingArgumentError"],
    [new DuplicateNodeError("a"), isDuplicateNodeError, "DuplicateNodeError"],
    [new UnknownNodeError("a"), isUnknownNodeError, "UnknownNodeError"],
  ];

  it("each class has a fixed name, its own guard, and is a RingError", () => {
    for (const [err, guard, name] of cases) {
      expect(err.name).toBe(name);
      expect(err).toBeInstanceOf(RingError);
      expect(isRingError(err)).toBe(true);
      expect(guard(err)).toBe(true);
      for (const [other, otherGuard] of cases)
        if (other !== err) expect(otherGuard(err)).toBe(false);
    }
  });

  it("guards check the name, so copies from another module instance are recognised", () => {
    const foreign = Object.assign(new Error("x"), { name: "UnknownNodeError" });
    expect(isUnknownNodeError(foreign)).toBe(true);
    expect(isRingError(foreign)).toBe(true);
    expect(isRingError(new Error("x"))).toBe(false);
    expect(isRingError(null)).toBe(false);
    expect(isRingError("UnknownNodeError")).toBe(false);
  });

  it("keeps the cause and the details", () => {
    const cause = new Error("root");
    expect(new RingError("m", { cause }).cause).toBe(cause);
    expect(new RingError("m").cause).toBeUndefined();
    const state = new InvalidRingStateError("$.nodes[1].id", "duplicate");
    expect(state.path).toBe("$.nodes[1].id");
    expect(state.message).toBe("invalid ring state at $.nodes[1].id: duplicate");
    expect(new UnknownNodeError("n1").nodeId).toBe("n1");
    expect(new DuplicateNodeError("n1").message).toContain('"n1"');
  });
});
