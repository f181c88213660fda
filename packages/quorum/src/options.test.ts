import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { majority, replicasNeeded } from "./consistency.js";
import { isInvalidQuorumOptionsError } from "./errors.js";
import {
  resolveHintedHandoffOptions,
  resolveQuorumOptions,
  resolveReplicaOptions,
} from "./options.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("quorum math", () => {
  test("one = 1, quorum = floor(N/2)+1, all = N, default = the configured value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 64 }),
        (n, fallback) => {
          expect(replicasNeeded("one", n, fallback)).toBe(1);
          expect(replicasNeeded("quorum", n, fallback)).toBe(Math.floor(n / 2) + 1);
          expect(replicasNeeded("all", n, fallback)).toBe(n);
          expect(replicasNeeded(undefined, n, fallback)).toBe(fallback);
          // Two majorities always share a replica, so a quorum read sees a quorum write...
          expect(majority(n) * 2).toBeGreaterThan(n);
          // ...and a majority is the smallest such size.
          expect((majority(n) - 1) * 2).toBeLessThanOrEqual(n);
        },
      ),
    );
  });
});

describe("resolveQuorumOptions", () => {
  test("defaults", () => {
    const o = resolveQuorumOptions();
    expect(o).toEqual({
      replicas: 3,
      readQuorum: 2,
      writeQuorum: 2,
      timeoutMs: 5000,
      maxKeyBytes: 1024,
      maxValueBytes: 1048576,
      maxContextBytes: 65536,
      conflictPolicy: "siblings",
      sloppyQuorum: true,
      readRepair: true,
      readAllShare: 1,
      speculativeRetryMs: 50,
      timestampCounters: false,
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveQuorumOptions({ replicas: 5 })).toMatchObject({ readQuorum: 3, writeQuorum: 3 });
    expect(resolveQuorumOptions({ replicas: 1 })).toMatchObject({ readQuorum: 1, writeQuorum: 1 });
  });

  test.each([
    [{ replicas: 3, readQuorum: 4 }, /readQuorum must be an integer in \[1, 3\]/],
    [{ replicas: 3, writeQuorum: 0 }, /writeQuorum/],
    [{ replicas: 65 }, /replicas must be an integer in \[1, 64\]/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ maxKeyBytes: 0 }, /maxKeyBytes/],
    [{ maxValueBytes: 1.5 }, /maxValueBytes/],
    [{ sloppyQuorum: "yes" }, /sloppyQuorum must be a boolean/],
    [{ conflictPolicy: "first" }, /conflictPolicy/],
    [{ replica: 3 }, /unknown quorum options field "replica"/],
  ])("rejects %j", (options, message) => {
    const e = thrown(() => resolveQuorumOptions(options as never)) as Error;
    expect(isInvalidQuorumOptionsError(e)).toBe(true);
    expect(e.message).toMatch(message);
  });

  test("other components' options", () => {
    expect(resolveReplicaOptions()).toEqual({ maxHints: 10000, maxKeyBytes: 1024 });
    expect(resolveHintedHandoffOptions()).toEqual({
      intervalMs: 10000,
      batchSize: 100,
      deliveryTimeoutMs: 5000,
      maxAgeMs: 3 * 60 * 60 * 1000,
    });
    expect(resolveHintedHandoffOptions({ intervalMs: 0 }).intervalMs).toBe(0);
    expect(isInvalidQuorumOptionsError(thrown(() => resolveReplicaOptions({ maxHints: -1 })))).toBe(
      true,
    );
    expect(
      isInvalidQuorumOptionsError(thrown(() => resolveHintedHandoffOptions({ batchSize: 0 }))),
    ).toBe(true);
    expect(
      isInvalidQuorumOptionsError(thrown(() => resolveHintedHandoffOptions({ maxAgeMs: -1 }))),
    ).toBe(true);
  });
});
