import { describe, expect, it } from "vitest";
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_DEADLINE_SLACK_MS,
  DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS,
  DEFAULT_MAX_REPORTED,
  DEFAULT_MAX_SHRINK_CHECKS,
  DEFAULT_MAX_STATES_PER_KEY,
  isHistoryError,
  isInvalidHistoryOptionsError,
  resolveDeadlineOptions,
  resolveHistoryRecorderOptions,
  resolveLinearizabilityOptions,
  resolveSessionOptions,
} from "./index.js";

function rejects(f: () => unknown, field: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isInvalidHistoryOptionsError(caught), field).toBe(true);
  expect(isHistoryError(caught)).toBe(true);
  expect((caught as Error).message).toContain(field);
}

describe("options", () => {
  it("fill in documented defaults and freeze the result", () => {
    const lin = resolveLinearizabilityOptions();
    expect(lin).toMatchObject({
      maxStatesPerKey: DEFAULT_MAX_STATES_PER_KEY,
      timeLimitMs: DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS,
      windowOps: 512,
      siblingReads: "violation",
      shrink: true,
      maxShrinkChecks: DEFAULT_MAX_SHRINK_CHECKS,
    });
    expect([
      DEFAULT_MAX_STATES_PER_KEY,
      DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS,
      DEFAULT_MAX_SHRINK_CHECKS,
    ]).toEqual([1_000_000, 60_000, 100]);
    expect(typeof lin.now()).toBe("number");
    expect(resolveSessionOptions()).toEqual({
      perCoordinator: true,
      readYourWrites: true,
      monotonicReads: true,
      maxReported: DEFAULT_MAX_REPORTED,
    });
    expect(resolveDeadlineOptions()).toEqual({
      deadlineMs: DEFAULT_DEADLINE_MS,
      slackMs: DEFAULT_DEADLINE_SLACK_MS,
      maxReported: 100,
    });
    expect(resolveHistoryRecorderOptions().onComplete).toBeUndefined();
    for (const o of [
      lin,
      resolveSessionOptions(),
      resolveDeadlineOptions(),
      resolveHistoryRecorderOptions(),
    ]) {
      expect(Object.isFrozen(o)).toBe(true);
    }
    expect(
      resolveLinearizabilityOptions({ timeLimitMs: Number.POSITIVE_INFINITY }).timeLimitMs,
    ).toBe(Number.POSITIVE_INFINITY);
  });

  it("reject bad values and unknown fields, naming the field", () => {
    rejects(() => resolveLinearizabilityOptions({ maxStatesPerKey: 0 }), "maxStatesPerKey");
    rejects(() => resolveLinearizabilityOptions({ maxStatesPerKey: 1.5 }), "maxStatesPerKey");
    rejects(() => resolveLinearizabilityOptions({ timeLimitMs: -1 }), "timeLimitMs");
    rejects(() => resolveLinearizabilityOptions({ timeLimitMs: Number.NaN }), "timeLimitMs");
    rejects(
      () => resolveLinearizabilityOptions({ siblingReads: "merge" as never }),
      "siblingReads",
    );
    rejects(() => resolveLinearizabilityOptions({ shrink: 1 as never }), "shrink");
    rejects(() => resolveLinearizabilityOptions({ maxShrinkChecks: -1 }), "maxShrinkChecks");
    rejects(() => resolveLinearizabilityOptions({ windowOps: 2.5 }), "windowOps");
    rejects(() => resolveLinearizabilityOptions({ maxStates: 5 } as never), "maxStates");
    rejects(() => resolveSessionOptions({ perCoordinator: "yes" as never }), "perCoordinator");
    rejects(() => resolveSessionOptions({ maxReported: -1 }), "maxReported");
    rejects(() => resolveDeadlineOptions({ deadlineMs: 0 }), "deadlineMs");
    rejects(() => resolveDeadlineOptions({ deadlineMs: Number.POSITIVE_INFINITY }), "deadlineMs");
    rejects(() => resolveDeadlineOptions({ slackMs: -5 }), "slackMs");
    rejects(() => resolveDeadlineOptions(null as never), "deadline options");
    rejects(() => resolveHistoryRecorderOptions({ onComplete: "x" as never }), "onComplete");
  });
});
