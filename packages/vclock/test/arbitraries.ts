/** fast-check arbitraries and a naive reference model shared by the tests. */
import fc from "fast-check";
import {
  isValidActor,
  MAX_COUNTER,
  type Sibling,
  type SiblingSet,
  siblingSet,
  type VersionVector,
  versionVector,
} from "../src/index.js";

/** A small pool so that generated vectors share actors (the interesting case), with odd ids. */
export const POOL_ACTORS = ["a", "b", "c", "d", "n1", "n10", "ñ", "😀x", "\uFEFFbom", "Z"];

export const actorArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...POOL_ACTORS) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter(isValidActor),
  },
);

export const smallCounterArb = fc.integer({ min: 1, max: 12 });
export const anyCounterArb = fc.oneof(
  smallCounterArb,
  fc.integer({ min: 1, max: 0x7fffffff }),
  fc.integer({ min: MAX_COUNTER - 1000, max: MAX_COUNTER }),
);

export function vvArb(
  counter: fc.Arbitrary<number> = smallCounterArb,
  actors: fc.Arbitrary<string> = actorArb,
  maxLength = 6,
): fc.Arbitrary<VersionVector> {
  return fc
    .uniqueArray(fc.tuple(actors, counter), { selector: (e) => e[0], maxLength })
    .map((entries) => versionVector(entries));
}

/**
 * The version a dot names, the same in every generated set: tests that compare sets built
 * independently rely on "one dot = one write", which real actors guarantee.
 */
export function canonicalSibling(actor: string, counter: number): Sibling<string> {
  let h = counter * 31;
  for (let i = 0; i < actor.length; i++) h = (h * 33 + actor.charCodeAt(i)) % 1_000_003;
  return {
    actor,
    counter,
    value: h % 5 === 0 ? null : `${actor}:${counter}`,
    timestampMs: 1_700_000_000_000 + (h % 50),
  };
}

/** Arbitrary valid sets whose siblings are canonical (value and timestamp are functions of the dot). */
export const setArb: fc.Arbitrary<SiblingSet<string>> = vvArb().chain((clock) => {
  const perActor = clock.map(([actor, top]) => {
    const candidates: number[] = [];
    for (let c = Math.max(1, top - 3); c <= top; c++) candidates.push(c);
    return fc
      .subarray(candidates, { maxLength: Math.min(2, candidates.length) })
      .map((cs) => cs.map((c) => canonicalSibling(actor, c)));
  });
  return fc.tuple(...perActor).map((groups) => siblingSet(clock, groups.flat()));
});

/** Arbitrary valid byte-valued sets with extreme counters, timestamps and values, for codecs. */
export const byteSetArb: fc.Arbitrary<SiblingSet<Uint8Array>> = vvArb(anyCounterArb).chain(
  (clock) => {
    const perActor = clock.map(([actor, top]) =>
      fc
        .uniqueArray(fc.integer({ min: 0, max: Math.min(top - 1, 5) }), { maxLength: 3 })
        .chain((gaps) =>
          fc.tuple(
            ...gaps.map((gap) =>
              fc.record({
                actor: fc.constant(actor),
                counter: fc.constant(top - gap),
                value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null, freq: 4 }),
                timestampMs: fc.oneof(
                  fc.nat(),
                  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
                  fc.constant(Number.MAX_SAFE_INTEGER),
                ),
              }),
            ),
          ),
        ),
    );
    return fc.tuple(...perActor).map((groups) => siblingSet(clock, groups.flat()));
  },
);

// ---- Naive reference implementations (Maps and the definitions, no cleverness) ----

export function refCounter(vv: VersionVector, actor: string): number {
  return new Map(vv).get(actor) ?? 0;
}

export function refCompare(a: VersionVector, b: VersionVector): string {
  const am = new Map(a);
  const bm = new Map(b);
  let le = true;
  let ge = true;
  for (const actor of new Set([...am.keys(), ...bm.keys()])) {
    const x = am.get(actor) ?? 0;
    const y = bm.get(actor) ?? 0;
    if (x > y) le = false;
    if (x < y) ge = false;
  }
  if (le && ge) return "equal";
  if (le) return "before";
  if (ge) return "after";
  return "concurrent";
}

export function refMerge(a: VersionVector, b: VersionVector): VersionVector {
  const m = new Map(a);
  for (const [actor, c] of b) m.set(actor, Math.max(m.get(actor) ?? 0, c));
  return versionVector(m);
}

/** sync by its definition: keep what the other side has not seen, or also holds. */
export function refSync<V>(a: SiblingSet<V>, b: SiblingSet<V>): SiblingSet<V> {
  const key = (s: Sibling<V>) => `${s.counter}\u0000${s.actor}`;
  const aKeys = new Set(a.siblings.map(key));
  const bKeys = new Set(b.siblings.map(key));
  const out = new Map<string, Sibling<V>>();
  for (const s of a.siblings) {
    if (refCounter(b.clock, s.actor) < s.counter || bKeys.has(key(s))) out.set(key(s), s);
  }
  for (const s of b.siblings) {
    if ((refCounter(a.clock, s.actor) < s.counter || aKeys.has(key(s))) && !out.has(key(s))) {
      out.set(key(s), s);
    }
  }
  return siblingSet(refMerge(a.clock, b.clock), out.values());
}

export function dotsOf<V>(set: SiblingSet<V>): string[] {
  return set.siblings.map((s) => `${s.actor}/${s.counter}`);
}
