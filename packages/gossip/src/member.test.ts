import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isInvalidGossipArgumentError } from "./errors.js";
import {
  type Claim,
  isAliveStatus,
  MAX_ID_BYTES,
  statusOf,
  supersedes,
  validateAddress,
  validateIncarnation,
  validateMetadata,
  validateNodeId,
  validatePhase,
} from "./member.js";

const claim: fc.Arbitrary<Claim> = fc.record({
  liveness: fc.constantFrom("alive" as const, "suspect" as const, "dead" as const, "left" as const),
  incarnation: fc.integer({ min: 0, max: 5 }),
});

/** What a node holds after hearing `claims` in this order, starting from `first`. */
function fold(first: Claim, claims: readonly Claim[]): Claim {
  let cur = first;
  for (const c of claims) if (supersedes(c, cur)) cur = c;
  return cur;
}

describe("claim order", () => {
  it("a higher incarnation wins; at equal incarnation alive < suspect < dead < left", () => {
    expect(
      supersedes({ liveness: "alive", incarnation: 2 }, { liveness: "dead", incarnation: 1 }),
    ).toBe(true);
    expect(
      supersedes({ liveness: "suspect", incarnation: 1 }, { liveness: "alive", incarnation: 1 }),
    ).toBe(true);
    expect(
      supersedes({ liveness: "alive", incarnation: 1 }, { liveness: "suspect", incarnation: 1 }),
    ).toBe(false);
    expect(
      supersedes({ liveness: "dead", incarnation: 1 }, { liveness: "suspect", incarnation: 1 }),
    ).toBe(true);
    expect(
      supersedes({ liveness: "left", incarnation: 1 }, { liveness: "dead", incarnation: 1 }),
    ).toBe(true);
    expect(
      supersedes({ liveness: "dead", incarnation: 1 }, { liveness: "left", incarnation: 1 }),
    ).toBe(false);
    expect(
      supersedes({ liveness: "alive", incarnation: 1 }, { liveness: "alive", incarnation: 1 }),
    ).toBe(false);
  });

  it("every node converges to the same state whatever order the claims arrive in", () => {
    fc.assert(
      fc.property(
        claim,
        fc.array(claim, { maxLength: 12 }),
        fc.integer(),
        (first, claims, seed) => {
          const shuffled = [...claims];
          let s = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) | 0;
            const j = Math.abs(s) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          expect(fold(first, shuffled)).toEqual(fold(first, claims));
          // The result is the maximum: nothing heard supersedes it.
          const result = fold(first, claims);
          for (const c of claims) expect(supersedes(c, result)).toBe(false);
        },
      ),
    );
  });
});

describe("statuses", () => {
  it("shows the phase while alive, the liveness otherwise", () => {
    expect(statusOf("alive", "joining")).toBe("joining");
    expect(statusOf("suspect", "normal")).toBe("suspect");
    expect(statusOf("left", "leaving")).toBe("left");
    expect(isAliveStatus("leaving")).toBe(true);
    expect(isAliveStatus("suspect")).toBe(false);
    expect(isAliveStatus("dead")).toBe(false);
  });
});

describe("validation", () => {
  it("accepts well-formed values and rejects the rest with InvalidGossipArgumentError", () => {
    expect(validateNodeId("node-1")).toBe("node-1");
    expect(validateNodeId("é".repeat(128))).toBe("é".repeat(128));
    expect(validateAddress("10.0.0.1:7946")).toBe("10.0.0.1:7946");
    expect(validateIncarnation(0)).toBe(0);
    expect(validatePhase("leaving")).toBe("leaving");
    const bad: (() => unknown)[] = [
      () => validateNodeId(""),
      () => validateNodeId(5),
      () => validateNodeId("x".repeat(MAX_ID_BYTES + 1)),
      () => validateNodeId("é".repeat(129)), // 258 UTF-8 bytes
      () => validateAddress(""),
      () => validateIncarnation(-1),
      () => validateIncarnation(1.5),
      () => validateIncarnation(2 ** 53),
      () => validateMetadata(new Uint8Array(11), 10),
      () => validateMetadata("abc", 10),
      () => validatePhase("running"),
    ];
    for (const f of bad) {
      let error: unknown;
      try {
        f();
      } catch (e) {
        error = e;
      }
      expect(isInvalidGossipArgumentError(error), String(f)).toBe(true);
    }
  });
});
