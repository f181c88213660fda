import { describe, expect, test } from "vitest";
import {
  AbortedError,
  DeadlineExceededError,
  HintQueueFullError,
  InvalidArgumentError,
  InvalidQuorumOptionsError,
  isAbortedError,
  isDeadlineExceededError,
  isHintQueueFullError,
  isInvalidArgumentError,
  isInvalidQuorumOptionsError,
  isNotCoordinatorError,
  isQuorumError,
  isUnavailableError,
  NotCoordinatorError,
  QuorumError,
  UnavailableError,
} from "./errors.js";

describe("errors", () => {
  const cases: Array<[Error, (e: unknown) => boolean, string]> = [
    [new InvalidQuorumOptionsError("x"), isInvalidQuorumOptionsError, "InvalidQuorumOptionsError"],
    [new InvalidArgumentError("key", "x"), isInvalidArgumentError, "InvalidArgumentError"],
    [new UnavailableError("read", 2, 1, []), isUnavailableError, "UnavailableError"],
    [
      new DeadlineExceededError("write", 100, 2, 1, ["b"], []),
      isDeadlineExceededError,
      "DeadlineExceededError",
    ],
    [new AbortedError("x"), isAbortedError, "AbortedError"],
    [new NotCoordinatorError("a", "b", ["b", "c"]), isNotCoordinatorError, "NotCoordinatorError"],
    [new HintQueueFullError(5), isHintQueueFullError, "HintQueueFullError"],
  ];

  test.each(cases)("%s has a fixed name and a guard that checks it", (error, guard, name) => {
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(QuorumError);
    expect(guard(error)).toBe(true);
    expect(isQuorumError(error)).toBe(true);
    // By name, not instanceof: a copy from another module instance matches too.
    expect(guard({ name })).toBe(true);
    for (const [other, , otherName] of cases)
      if (otherName !== name) expect(guard(other)).toBe(false);
    expect(guard(new Error("x"))).toBe(false);
    expect(guard(null)).toBe(false);
    expect(guard("UnavailableError")).toBe(false);
  });

  test("messages carry the numbers and the failed replicas", () => {
    const cause = new Error("connection refused");
    const e = new UnavailableError("write", 3, 1, [
      { nodeId: "b", reason: "down", message: "down per membership" },
      { nodeId: "c", reason: "error", message: "boom", cause },
    ]);
    expect(e.message).toBe(
      "write unavailable: needed 3 replicas, 1 answered; failed: b (down: down per membership), c (error: boom)",
    );
    expect(e.failed[1]!.cause).toBe(cause);
    const d = new DeadlineExceededError("read", 250, 2, 1, ["x", "y"], []);
    expect(d.message).toBe(
      "read deadline of 250 ms exceeded: needed 2 replicas, 1 answered; no answer from x, y",
    );
    expect(new AbortedError("stop", { cause }).cause).toBe(cause);
    expect(new NotCoordinatorError("a", undefined, ["b"]).message).toMatch(/no replica is alive/);
  });
});
