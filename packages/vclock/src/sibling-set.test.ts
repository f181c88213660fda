import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalSibling, dotsOf, refSync, setArb } from "../test/arbitraries.js";
import {
  isInvalidActorError,
  isInvalidSiblingSetError,
  isInvalidTimestampError,
} from "./errors.js";
import {
  context,
  EMPTY_SIBLING_SET,
  emptySiblingSet,
  equals,
  isCoveredBy,
  isPurgeable,
  isStale,
  isTombstoneOnly,
  liveSiblings,
  type SiblingSet,
  siblingSet,
  sync,
  syncAll,
  update,
  values,
} from "./sibling-set.js";
import {
  coversDot,
  descends,
  EMPTY_VERSION_VECTOR,
  versionVector,
  versionVectorEquals,
} from "./version-vector.js";

const T = 1_700_000_000_000;

/** Checks every SiblingSet invariant by rebuilding the set through the validating constructor. */
function expectValid<V>(set: SiblingSet<V>): void {
  const rebuilt = siblingSet(set.clock, set.siblings);
  expect(rebuilt.siblings).toEqual(set.siblings);
}

describe("update", () => {
  it("a blind write on an empty key starts a clock", () => {
    const s = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", T);
    expect(s).toEqual({
      clock: [["A", 1]],
      siblings: [{ actor: "A", counter: 1, value: "v", timestampMs: T }],
    });
  });

  it("drops exactly the siblings the context covers and merges the context into the clock", () => {
    const base = siblingSet<string>(versionVector({ A: 3, B: 2, C: 1 }), [
      { actor: "A", counter: 3, value: "a3", timestampMs: T },
      { actor: "B", counter: 1, value: "b1", timestampMs: T },
      { actor: "B", counter: 2, value: "b2", timestampMs: T },
      { actor: "C", counter: 1, value: "c1", timestampMs: T },
    ]);
    const ctx = versionVector({ A: 3, B: 1, D: 7 });
    const next = update(base, ctx, "new", "B", T + 1);
    // A:3 and B:1 were covered; B:2 and C:1 were not seen by the writer.
    expect(dotsOf(next)).toEqual(["B/2", "B/3", "C/1"]);
    expect(next.clock).toEqual(versionVector({ A: 3, B: 3, C: 1, D: 7 }));
    expectValid(next);
  });

  it("uses the highest counter known for the actor, from the clock or the context", () => {
    const base = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "x", "A", T);
    const next = update(base, versionVector({ A: 9 }), "y", "A", T);
    expect(dotsOf(next)).toEqual(["A/10"]);
  });

  it("inserts the new sibling in dot order", () => {
    let s = emptySiblingSet<string>();
    for (const actor of ["m", "z", "a", "m", "b"])
      s = update(s, EMPTY_VERSION_VECTOR, actor, actor, T);
    expect(dotsOf(s)).toEqual(["a/1", "b/1", "m/1", "m/2", "z/1"]);
    expectValid(s);
  });

  it("validates actor and timestamp", () => {
    const s = emptySiblingSet<string>();
    expect(() => update(s, EMPTY_VERSION_VECTOR, "v", "", T)).toThrow(/actor/);
    try {
      update(s, EMPTY_VERSION_VECTOR, "v", "", T);
    } catch (e) {
      expect(isInvalidActorError(e)).toBe(true);
    }
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
      try {
        update(s, EMPTY_VERSION_VECTOR, "v", "A", bad);
        expect.unreachable();
      } catch (e) {
        expect(isInvalidTimestampError(e)).toBe(true);
      }
    }
  });

  it("a write with the context of a read supersedes exactly what was read", () => {
    // Later writers: [actor, write-with-read-context?]. Their versions were written after the read.
    const later = fc.array(fc.tuple(fc.constantFrom("B", "C", "D"), fc.boolean()), {
      maxLength: 4,
    });
    fc.assert(
      fc.property(setArb, later, fc.constantFrom("A", "B", "E"), (read, writes, writer) => {
        const ctx = context(read);
        let current = read;
        for (const [actor, withCtx] of writes) {
          // Each later writer works on its own copy then replicates into `current`.
          const own = update(
            current,
            withCtx ? ctx : EMPTY_VERSION_VECTOR,
            `${actor}-late`,
            actor,
            T,
          );
          current = sync(current, own);
        }
        const result = update(current, ctx, "final", writer, T + 5);
        expectValid(result);
        const readDots = new Set(dotsOf(read));
        const survivors = current.siblings.filter((s) => !coversDot(ctx, s.actor, s.counter));
        const resultDots = dotsOf(result);
        // Nothing that was read survives; everything written after the read does; plus the new one.
        for (const d of resultDots) expect(readDots.has(d)).toBe(false);
        expect(resultDots.length).toBe(survivors.length + 1);
        for (const s of survivors) expect(resultDots).toContain(`${s.actor}/${s.counter}`);
        expect(values(result)).toContain("final");
        expect(descends(result.clock, current.clock)).toBe(true);
      }),
    );
  });

  it("sequential writes through one actor with the latest context never create siblings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string(), { nil: null }), { minLength: 1, maxLength: 30 }),
        (vals) => {
          let s = emptySiblingSet<string>();
          for (const v of vals) {
            s = update(s, context(s), v, "A", T);
            expect(s.siblings.length).toBe(1);
          }
          expect(s.clock).toEqual([["A", vals.length]]);
        },
      ),
    );
  });

  it("sequential writes through different coordinators, each with the latest context, never create siblings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("A", "B", "C"), { minLength: 1, maxLength: 30 }),
        (actors) => {
          let s = emptySiblingSet<string>();
          for (const actor of actors) {
            s = update(s, context(s), actor, actor, T);
            expect(s.siblings.length).toBe(1);
          }
        },
      ),
    );
  });

  it("concurrent writes without shared context are both kept", () => {
    fc.assert(
      fc.property(
        setArb,
        fc.constantFrom("A", "B"),
        fc.constantFrom("C", "D"),
        fc.boolean(),
        (base, x, y, blind) => {
          const ctx = blind ? EMPTY_VERSION_VECTOR : context(base);
          const w1 = update(base, ctx, "one", x, T);
          const w2 = update(base, ctx, "two", y, T);
          const m = sync(w1, w2);
          expect(values(m)).toEqual(expect.arrayContaining(["one", "two"]));
          // And a reader that saw both resolves them into one.
          const resolved = update(m, context(m), "both", x, T);
          expect(values(resolved)).toEqual(["both"]);
          expect(resolved.siblings.length).toBe(1);
        },
      ),
    );
  });

  it("two blind writes through the same actor are both kept", () => {
    const s1 = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "x", "A", T);
    const s2 = update(s1, EMPTY_VERSION_VECTOR, "y", "A", T);
    expect(values(s2)).toEqual(["x", "y"]);
  });
});

describe("sync", () => {
  it("matches the definition (reference implementation)", () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const s = sync(a, b);
        expectValid(s);
        expect(s).toEqual(refSync(a, b));
      }),
    );
  });

  it("is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(setArb, setArb, setArb, (a, b, c) => {
        expect(sync(a, b)).toEqual(sync(b, a));
        expect(sync(sync(a, b), c)).toEqual(sync(a, sync(b, c)));
        expect(sync(a, a)).toEqual(a);
        expect(sync(a, sync(a, b))).toEqual(sync(a, b));
      }),
    );
  });

  it("never loses a version the other side has not seen, and invents none", () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const dots = new Set(dotsOf(sync(a, b)));
        for (const [x, y] of [
          [a, b],
          [b, a],
        ] as const) {
          for (const s of x.siblings) {
            if (!coversDot(y.clock, s.actor, s.counter))
              expect(dots.has(`${s.actor}/${s.counter}`)).toBe(true);
          }
        }
        const inputs = new Set([...dotsOf(a), ...dotsOf(b)]);
        for (const d of dots) expect(inputs.has(d)).toBe(true);
      }),
    );
  });

  it("keeps a version both sides hold (even though both clocks cover it)", () => {
    const s = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", T);
    const copy = siblingSet(s.clock, s.siblings);
    expect(values(sync(s, copy))).toEqual(["v"]);
  });

  it("a stale replica's old version is dropped, not kept as a sibling", () => {
    const v1 = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v1", "A", T);
    const v2 = update(v1, context(v1), "v2", "B", T);
    expect(values(sync(v1, v2))).toEqual(["v2"]);
    expect(values(sync(v2, v1))).toEqual(["v2"]);
  });

  it("returns an input unchanged when it already is the result", () => {
    const v1 = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v1", "A", T);
    const v2 = update(v1, context(v1), "v2", "B", T);
    expect(sync(v2, v1)).toBe(v2);
    expect(sync(v1, v2)).toBe(v2);
    expect(sync(v2, siblingSet(v2.clock, v2.siblings))).toBe(v2);
  });

  it("syncAll of any order of the same sets gives the same set", () => {
    fc.assert(
      fc.property(fc.array(setArb, { maxLength: 5 }), fc.context(), (sets, ctx) => {
        const forward = syncAll(sets);
        const backward = syncAll([...sets].reverse());
        ctx.log(`${sets.length} sets`);
        expect(forward).toEqual(backward);
      }),
    );
    expect(syncAll([])).toBe(EMPTY_SIBLING_SET);
  });
});

describe("isStale / equals / isCoveredBy", () => {
  it("isStale(r, m) is exactly 'sync(r, m) would change r'", () => {
    fc.assert(
      fc.property(setArb, setArb, (r, m) => {
        expect(isStale(r, m)).toBe(!equals(sync(r, m), r));
      }),
    );
  });

  it("after read repair no replica is stale relative to the merged set", () => {
    fc.assert(
      fc.property(fc.array(setArb, { minLength: 1, maxLength: 4 }), (replies) => {
        const merged = syncAll(replies);
        for (const r of replies) {
          const repaired = isStale(r, merged) ? sync(r, merged) : r;
          expect(isStale(repaired, merged)).toBe(false);
          expect(equals(repaired, merged)).toBe(true);
        }
      }),
    );
  });

  it("equals compares clocks, dots, timestamps and tombstone flags", () => {
    const a = siblingSet<string>(versionVector({ A: 1 }), [
      { actor: "A", counter: 1, value: "x", timestampMs: 5 },
    ]);
    expect(equals(a, siblingSet(a.clock, a.siblings))).toBe(true);
    expect(equals(a, siblingSet(versionVector({ A: 2 }), a.siblings))).toBe(false);
    expect(equals(a, siblingSet(a.clock, [{ ...a.siblings[0]!, timestampMs: 6 }]))).toBe(false);
    expect(equals(a, siblingSet(a.clock, [{ ...a.siblings[0]!, value: null }]))).toBe(false);
    expect(equals(a, siblingSet(a.clock, []))).toBe(false);
  });

  it("isCoveredBy(set, ctx) is true exactly when a write with ctx leaves only the new version", () => {
    fc.assert(
      fc.property(setArb, setArb, (set, other) => {
        const ctx = context(other);
        const after = update(set, ctx, "w", "W", T);
        expect(isCoveredBy(set, ctx)).toBe(after.siblings.length === 1);
        expect(isCoveredBy(set, context(set))).toBe(true);
      }),
    );
  });
});

describe("tombstones", () => {
  it("a delete with the read context leaves a tombstone-only set that reads as not found", () => {
    const v = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", T);
    const d = update(v, context(v), null, "A", T + 10);
    expect(isTombstoneOnly(d)).toBe(true);
    expect(values(d)).toEqual([]);
    expect(liveSiblings(d)).toEqual([]);
    // Its context still supersedes the tombstone on the next write.
    const again = update(d, context(d), "back", "B", T + 20);
    expect(values(again)).toEqual(["back"]);
    expect(again.siblings.length).toBe(1);
    // A stale replica that missed the delete does not resurrect the value.
    expect(values(sync(v, d))).toEqual([]);
  });

  it("a delete concurrent with a put keeps both; the put is what a reader sees", () => {
    const base = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", T);
    const del = update(base, context(base), null, "A", T + 1);
    const put = update(base, context(base), "w", "B", T + 2);
    const m = sync(del, put);
    expect(m.siblings.length).toBe(2);
    expect(isTombstoneOnly(m)).toBe(false);
    expect(values(m)).toEqual(["w"]);
  });

  it("isPurgeable: tombstones only, all older than the grace period", () => {
    const v = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", 1000);
    const d = update(v, context(v), null, "A", 2000);
    expect(isPurgeable(v, 10_000, 100)).toBe(false);
    expect(isPurgeable(d, 2099, 100)).toBe(false);
    expect(isPurgeable(d, 2100, 100)).toBe(true);
    expect(isPurgeable(EMPTY_SIBLING_SET, 0, 100)).toBe(true);
    expect(isTombstoneOnly(EMPTY_SIBLING_SET)).toBe(false);
  });
});

describe("siblingSet()", () => {
  it("sorts and validates", () => {
    const s = siblingSet<string>(versionVector({ A: 2, B: 1 }), [
      canonicalSibling("B", 1),
      canonicalSibling("A", 2),
      canonicalSibling("A", 1),
    ]);
    expect(dotsOf(s)).toEqual(["A/1", "A/2", "B/1"]);
  });

  it("rejects uncovered dots, duplicates, bad counters, timestamps and undefined values", () => {
    const clock = versionVector({ A: 2 });
    const ok = { actor: "A", counter: 1, value: "x", timestampMs: 1 };
    const bad = [
      [{ ...ok, counter: 3 }],
      [{ ...ok, actor: "B" }],
      [ok, { ...ok }],
      [{ ...ok, counter: 0 }],
      [{ ...ok, counter: 1.5 }],
      [{ ...ok, timestampMs: -1 }],
      [{ ...ok, value: undefined }],
      [{ ...ok, actor: "" }],
    ];
    for (const siblings of bad) {
      try {
        siblingSet(clock, siblings as never);
        expect.unreachable(JSON.stringify(siblings));
      } catch (e) {
        expect(isInvalidSiblingSetError(e)).toBe(true);
      }
    }
    try {
      siblingSet(
        [
          ["b", 1],
          ["a", 1],
        ],
        [],
      );
      expect.unreachable();
    } catch (e) {
      expect(isInvalidSiblingSetError(e)).toBe(true);
    }
  });
});

describe("the clock-only set (siblings superseded elsewhere)", () => {
  it("is valid, reads as not found, and its context still supersedes", () => {
    const husk = siblingSet<string>(versionVector({ A: 1 }), []);
    const v = update(emptySiblingSet<string>(), EMPTY_VERSION_VECTOR, "v", "A", T);
    expect(values(husk)).toEqual([]);
    expect(values(sync(husk, v))).toEqual([]);
    expect(versionVectorEquals(sync(husk, v).clock, husk.clock)).toBe(true);
  });
});

describe("update with a counter floor", () => {
  it("the new dot's counter is at least the floor, and a purged history never reuses a dot", () => {
    const first = update(EMPTY_SIBLING_SET, [], "v1", "a", 1000, 5000);
    expect(first.siblings[0]!.counter).toBe(5000);
    // Above the floor, counters keep counting.
    const second = update(first, context(first), "v2", "a", 1001, 10);
    expect(second.siblings[0]!.counter).toBe(5001);
    // The history is purged; a replica still holds the old tombstone with clock {a: 5001}.
    const tombstone = update(second, context(second), null, "a", 1002, 0);
    const rewritten = update(EMPTY_SIBLING_SET, [], "v3", "a", 9000, 9000);
    const merged = sync(tombstone, rewritten);
    expect(values(merged)).toEqual(["v3"]);
    // Without the floor the rewrite's dot (a, 1) is covered, and sync drops it.
    const reused = update(EMPTY_SIBLING_SET, [], "v3", "a", 9000);
    expect(values(sync(tombstone, reused))).toEqual([]);
  });

  it("rejects a floor that is not a counter", () => {
    expect(() => update(EMPTY_SIBLING_SET, [], "v", "a", 1, -1)).toThrow(RangeError);
    expect(() => update(EMPTY_SIBLING_SET, [], "v", "a", 1, 1.5)).toThrow(RangeError);
  });
});
