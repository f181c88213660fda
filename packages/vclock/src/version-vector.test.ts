import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyCounterArb, refCompare, refCounter, refMerge, vvArb } from "../test/arbitraries.js";
import {
  isCounterOverflowError,
  isInvalidActorError,
  isInvalidVersionVectorError,
} from "./errors.js";
import {
  compareVersionVectors,
  counterOf,
  coversDot,
  descends,
  dominates,
  EMPTY_VERSION_VECTOR,
  incrementVersionVector,
  isVersionVector,
  MAX_COUNTER,
  mergeVersionVectors,
  versionVector,
  versionVectorEquals,
  versionVectorToObject,
} from "./version-vector.js";

const vv = vvArb();
const bigVv = vvArb(anyCounterArb);

describe("versionVector()", () => {
  it("sorts, drops zero counters and accepts records", () => {
    expect(
      versionVector([
        ["b", 2],
        ["a", 1],
        ["c", 0],
      ]),
    ).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(versionVector({ z: 3, y: 1 })).toEqual([
      ["y", 1],
      ["z", 3],
    ]);
    expect(versionVector()).toBe(EMPTY_VERSION_VECTOR);
  });

  it("rejects duplicates, bad counters and bad actors", () => {
    const bad: unknown[] = [
      [
        ["a", 1],
        ["a", 2],
      ],
      [["a", -1]],
      [["a", 1.5]],
      [["a", MAX_COUNTER + 1]],
      [["a", Number.NaN]],
      [["", 1]],
      [["\ud800", 1]],
      [["x".repeat(256), 1]],
      [["a"]],
    ];
    for (const init of bad) {
      expect(() => versionVector(init as [string, number][])).toThrow(
        expect.objectContaining({ name: "InvalidVersionVectorError" }),
      );
    }
    try {
      versionVector([
        ["a", 1],
        ["a", 1],
      ]);
    } catch (e) {
      expect(isInvalidVersionVectorError(e)).toBe(true);
    }
  });

  it("always produces a valid vector, equal to the input as a map", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), anyCounterArb), {
          selector: (e) => e[0],
        }),
        (entries) => {
          const v = versionVector(entries);
          expect(isVersionVector(v)).toBe(true);
          expect(new Map(v)).toEqual(new Map(entries));
        },
      ),
    );
  });
});

describe("isVersionVector", () => {
  it("rejects unsorted, duplicate and malformed vectors", () => {
    expect(
      isVersionVector([
        ["b", 1],
        ["a", 1],
      ]),
    ).toBe(false);
    expect(
      isVersionVector([
        ["a", 1],
        ["a", 2],
      ]),
    ).toBe(false);
    expect(isVersionVector([["a", 0]])).toBe(false);
    expect(isVersionVector({})).toBe(false);
    expect(isVersionVector([["a", 1, 2]])).toBe(false);
    expect(
      isVersionVector([
        ["a", 1],
        ["b", 2],
      ]),
    ).toBe(true);
  });
});

describe("compare / descends / dominates agree with a Map-based reference", () => {
  it("compare", () => {
    fc.assert(
      fc.property(bigVv, bigVv, (a, b) => {
        expect(compareVersionVectors(a, b)).toBe(refCompare(a, b));
      }),
    );
  });
  it("related pairs (one a merge of the other) are compared right too", () => {
    fc.assert(
      fc.property(vv, vv, (a, b) => {
        const m = mergeVersionVectors(a, b);
        expect(compareVersionVectors(a, m)).toBe(refCompare(a, m));
        expect(compareVersionVectors(m, b)).toBe(refCompare(m, b));
        expect(descends(m, a) && descends(m, b)).toBe(true);
      }),
    );
  });
  it("descends is after-or-equal, dominates is after, and compare is antisymmetric", () => {
    const flip = { before: "after", after: "before", equal: "equal", concurrent: "concurrent" };
    fc.assert(
      fc.property(vv, vv, (a, b) => {
        const c = compareVersionVectors(a, b);
        expect(descends(a, b)).toBe(c === "after" || c === "equal");
        expect(dominates(a, b)).toBe(c === "after");
        expect(compareVersionVectors(b, a)).toBe(flip[c]);
        expect(versionVectorEquals(a, b)).toBe(c === "equal");
      }),
    );
  });
  it("counterOf and coversDot", () => {
    fc.assert(
      fc.property(bigVv, fc.string({ minLength: 1, maxLength: 3 }), fc.nat(20), (a, actor, n) => {
        expect(counterOf(a, actor)).toBe(refCounter(a, actor));
        for (const [x, c] of a) expect(counterOf(a, x)).toBe(c);
        expect(coversDot(a, actor, n)).toBe(refCounter(a, actor) >= n);
      }),
    );
  });
});

describe("merge", () => {
  it("is the entry-wise max and a valid vector", () => {
    fc.assert(
      fc.property(bigVv, bigVv, (a, b) => {
        const m = mergeVersionVectors(a, b);
        expect(isVersionVector(m)).toBe(true);
        expect(m).toEqual(refMerge(a, b));
      }),
    );
  });
  it("is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(vv, vv, vv, (a, b, c) => {
        expect(mergeVersionVectors(a, b)).toEqual(mergeVersionVectors(b, a));
        expect(mergeVersionVectors(mergeVersionVectors(a, b), c)).toEqual(
          mergeVersionVectors(a, mergeVersionVectors(b, c)),
        );
        expect(mergeVersionVectors(a, a)).toEqual(a);
      }),
    );
  });
  it("returns an input that already covers the other (no allocation)", () => {
    const a = versionVector({ a: 2, b: 1 });
    const b = versionVector({ a: 1 });
    expect(mergeVersionVectors(a, b)).toBe(a);
    expect(mergeVersionVectors(b, a)).toBe(a);
  });
});

describe("increment", () => {
  it("raises exactly one counter and dominates the input", () => {
    fc.assert(
      fc.property(vv, fc.constantFrom("a", "b", "c", "new"), (a, actor) => {
        const next = incrementVersionVector(a, actor);
        expect(isVersionVector(next)).toBe(true);
        expect(dominates(next, a)).toBe(true);
        const expected = new Map(a);
        expected.set(actor, (expected.get(actor) ?? 0) + 1);
        expect(new Map(next)).toEqual(expected);
      }),
    );
  });
  it("refuses to pass MAX_COUNTER and rejects bad actors", () => {
    const top = versionVector([["a", MAX_COUNTER]]);
    expect(() => incrementVersionVector(top, "a")).toThrow(
      expect.objectContaining({ name: "CounterOverflowError" }),
    );
    try {
      incrementVersionVector(top, "a");
    } catch (e) {
      expect(isCounterOverflowError(e)).toBe(true);
    }
    try {
      incrementVersionVector(top, "");
      expect.unreachable();
    } catch (e) {
      expect(isInvalidActorError(e)).toBe(true);
    }
  });
});

describe("versionVectorToObject", () => {
  it("maps actors to counters, including actor ids like __proto__", () => {
    const o = versionVectorToObject(
      versionVector([
        ["__proto__", 2],
        ["a", 1],
      ]),
    );
    expect(Object.keys(o).sort()).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(o, "__proto__")?.value).toBe(2);
  });
});
