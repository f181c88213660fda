import { describe, expect, it } from "vitest";
import {
  HistoryError,
  InvalidHistoryError,
  InvalidHistoryOptionsError,
  InvalidOperationError,
  isHistoryError,
  isInvalidHistoryError,
  isInvalidHistoryOptionsError,
  isInvalidOperationError,
  isOperationAlreadyCompletedError,
  OperationAlreadyCompletedError,
} from "./index.js";

describe("errors", () => {
  it("have fixed names, keep their cause, and are recognised by name across copies", () => {
    const cause = new Error("root");
    const errors = [
      [new HistoryError("x", { cause }), "HistoryError", isHistoryError],
      [
        new InvalidHistoryError("[1].id", "bad", { cause }),
        "InvalidHistoryError",
        isInvalidHistoryError,
      ],
      [new InvalidOperationError("x", { cause }), "InvalidOperationError", isInvalidOperationError],
      [
        new OperationAlreadyCompletedError(3, { cause }),
        "OperationAlreadyCompletedError",
        isOperationAlreadyCompletedError,
      ],
      [
        new InvalidHistoryOptionsError("x", { cause }),
        "InvalidHistoryOptionsError",
        isInvalidHistoryOptionsError,
      ],
    ] as const;
    for (const [e, name, guard] of errors) {
      expect(e.name).toBe(name);
      expect(e.cause).toBe(cause);
      expect(guard(e)).toBe(true);
      expect(isHistoryError(e)).toBe(true);
      // A copy from another module instance: same name, different class.
      expect(guard({ name })).toBe(true);
    }
    expect(isInvalidHistoryError(new InvalidOperationError("x"))).toBe(false);
    expect(isHistoryError(new Error("x"))).toBe(false);
    expect(isHistoryError(null)).toBe(false);
    expect(new InvalidHistoryError("line 3", "bad").path).toBe("line 3");
    expect(new OperationAlreadyCompletedError(3).operationId).toBe(3);
    expect(new HistoryError("x").cause).toBeUndefined();
  });
});
