import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { setArb } from "../test/arbitraries.js";
import { lww, resolveLww } from "./lww.js";
import {
  compareDots,
  EMPTY_SIBLING_SET,
  type Sibling,
  siblingSet,
  sync,
  values,
} from "./sibling-set.js";
import { versionVector } from "./version-vector.js";

/** Reference: greatest timestamp, then greatest dot. */
function refLww<V>(siblings: readonly Sibling<V>[]): Sibling<V> | undefined {
  return [...siblings].sort((a, b) => a.timestampMs - b.timestampMs || compareDots(a, b)).at(-1);
}

describe("lww", () => {
  it("picks the greatest timestamp, ties broken by the greater dot", () => {
    fc.assert(
      fc.property(setArb, (set) => {
        expect(lww(set)).toEqual(refLww(set.siblings));
      }),
    );
  });

  it("tie on timestamp: the greater dot wins, whatever order the replicas merged in", () => {
    const s = siblingSet<string>(versionVector({ a: 1, b: 2 }), [
      { actor: "b", counter: 1, value: "b1", timestampMs: 5 },
      { actor: "a", counter: 1, value: "a1", timestampMs: 5 },
      { actor: "b", counter: 2, value: "b2", timestampMs: 4 },
    ]);
    expect(lww(s)?.value).toBe("b1");
    const t = siblingSet<string>(versionVector({ a: 1, b: 2 }), [
      { actor: "a", counter: 1, value: "a1", timestampMs: 9 },
      { actor: "b", counter: 2, value: "b2", timestampMs: 9 },
      { actor: "b", counter: 1, value: "b1", timestampMs: 9 },
    ]);
    expect(lww(t)?.value).toBe("b2");
  });

  it("may pick a tombstone, and is undefined without siblings", () => {
    const s = siblingSet<string>(versionVector({ a: 2 }), [
      { actor: "a", counter: 1, value: "x", timestampMs: 1 },
      { actor: "a", counter: 2, value: null, timestampMs: 2 },
    ]);
    expect(lww(s)?.value).toBeNull();
    expect(lww(EMPTY_SIBLING_SET)).toBeUndefined();
  });
});

describe("resolveLww", () => {
  it("keeps the clock and only the winner; syncing it into any replica drops the losers there", () => {
    fc.assert(
      fc.property(setArb, setArb, (set, other) => {
        const resolved = resolveLww(set);
        expect(resolved.clock).toBe(set.clock);
        expect(resolved.siblings).toEqual(set.siblings.length === 0 ? [] : [lww(set)]);
        // A replica holding a subset of what `set` saw keeps none of the losers after sync.
        const replica = sync(set, other);
        const repaired = sync(replica, resolved);
        for (const s of set.siblings) {
          if (s !== lww(set)) expect(repaired.siblings).not.toContainEqual(s);
        }
      }),
    );
  });

  it("returns a set with at most one sibling unchanged", () => {
    const one = siblingSet<string>(versionVector({ a: 1 }), [
      { actor: "a", counter: 1, value: "x", timestampMs: 1 },
    ]);
    expect(resolveLww(one)).toBe(one);
    expect(values(resolveLww(one))).toEqual(["x"]);
  });
});
