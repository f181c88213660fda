import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildRing,
  ModelRing,
  nodeSpecArb,
  ringSpecArb,
  SPEC_VIRTUAL_NODES,
  tokenArb,
} from "../test/model.js";
import {
  isDuplicateNodeError,
  isInvalidRingArgumentError,
  isInvalidRingOptionsError,
  isInvalidRingTokenError,
  isUnknownNodeError,
} from "./errors.js";
import { HashRing, vnodeTokens } from "./hash-ring.js";
import { PRECOMPUTED_SUCCESSORS } from "./ring-index.js";
import { MAX_TOKEN, RING_SIZE, type Token, tokenOf } from "./token.js";
import { rangeContains, rangeSize } from "./token-range.js";

const is = (guard: (e: unknown) => boolean) => expect.toSatisfy(guard);

describe("HashRing lookups agree with the naive model", () => {
  it("preferenceList / preferenceListForToken / walk, with and without skip", () => {
    fc.assert(
      fc.property(
        ringSpecArb(),
        fc.integer({ min: 0, max: 16 }),
        fc.array(fc.boolean(), { maxLength: 14 }),
        fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 24 })), { maxLength: 8 }),
        (specs, n, skipFlags, keys) => {
          const ring = buildRing(specs);
          const model = ModelRing.fromSpecs(specs);
          const skipped = new Set(specs.filter((_, i) => skipFlags[i]).map((s) => s.id));
          const skip = (id: string) => skipped.has(id);
          for (const t of model.probes()) {
            expect(ring.preferenceListForToken(t, n)).toEqual(model.preferenceList(t, n));
            expect(ring.preferenceListForToken(t, n, { skip })).toEqual(
              model.preferenceList(t, n, skip),
            );
            expect([...ring.walkFromToken(t)]).toEqual(model.walk(t));
          }
          for (const key of keys) {
            const t = tokenOf(key);
            expect(ring.preferenceList(key, n)).toEqual(model.preferenceList(t, n));
            expect(ring.preferenceList(key, n, { skip })).toEqual(model.preferenceList(t, n, skip));
            expect([...ring.walk(key)]).toEqual(model.walk(t));
          }
        },
      ),
    );
  });

  it("past the precomputed depth (more nodes than successors cached)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: PRECOMPUTED_SUCCESSORS + 1, max: 24 }),
        fc.array(fc.string(), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: PRECOMPUTED_SUCCESSORS - 1, max: 30 }),
        (nodes, keys, n) => {
          const specs = Array.from({ length: nodes }, (_, i) => ({
            id: `n${i}`,
            kind: "derived" as const,
            virtualNodes: 3,
          }));
          const ring = buildRing(specs);
          const model = ModelRing.fromSpecs(specs);
          const skip = (id: string) => id.endsWith("1");
          for (const key of keys) {
            const t = tokenOf(key);
            expect(ring.preferenceList(key, n)).toEqual(model.preferenceList(t, n));
            expect(ring.preferenceList(key, n, { skip })).toEqual(model.preferenceList(t, n, skip));
            expect([...ring.walk(key)]).toEqual(model.walk(t));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("lists are distinct and of length min(n, nodes); walk yields every node once", () => {
    fc.assert(
      fc.property(ringSpecArb(), fc.integer({ min: 0, max: 20 }), fc.string(), (specs, n, key) => {
        const ring = buildRing(specs);
        const list = ring.preferenceList(key, n);
        expect(list.length).toBe(Math.min(n, specs.length));
        expect(new Set(list).size).toBe(list.length);
        const all = [...ring.walk(key)];
        expect(all.length).toBe(specs.length);
        expect(new Set(all)).toEqual(new Set(specs.map((s) => s.id)));
        expect(all.slice(0, list.length)).toEqual(list);
      }),
    );
  });
});

describe("ranges and ownership", () => {
  it("rangesFor(id, n) contains exactly the tokens whose first n replicas include id", () => {
    fc.assert(
      fc.property(ringSpecArb(8), fc.array(tokenArb, { maxLength: 10 }), (specs, extra) => {
        const ring = buildRing(specs);
        const model = ModelRing.fromSpecs(specs);
        const probes = [...model.probes(), ...extra];
        for (const n of [1, 2, 3, specs.length]) {
          for (const { id } of specs) {
            const ranges = ring.rangesFor(id, n);
            for (const t of probes) {
              const inRanges = ranges.filter((r) => rangeContains(r, t)).length;
              // Disjoint: a token is in at most one range.
              expect(inRanges).toBe(model.preferenceList(t, n).includes(id) ? 1 : 0);
            }
            // Sorted by end; adjacent ranges were merged, so no range starts where one ends.
            for (let i = 1; i < ranges.length; i++) {
              expect(ranges[i - 1]!.end < ranges[i]!.end).toBe(true);
            }
            const ends = new Set(ranges.map((r) => r.end));
            for (const r of ranges) if (r.start !== r.end) expect(ends.has(r.start)).toBe(false);
          }
        }
      }),
    );
  });

  it("replicaRanges tile the ring, and each arc has one replica set", () => {
    fc.assert(
      fc.property(ringSpecArb(8), fc.integer({ min: 1, max: 4 }), (specs, n) => {
        const ring = buildRing(specs);
        const model = ModelRing.fromSpecs(specs);
        const arcs = ring.replicaRanges(n);
        if (specs.length === 0) {
          expect(arcs).toEqual([]);
          return;
        }
        let total = 0n;
        for (const { range, replicas } of arcs) {
          total += rangeSize(range);
          expect(replicas).toEqual(model.preferenceList(range.end, n));
          expect(replicas).toEqual(model.preferenceList((range.start + 1n) % RING_SIZE, n));
        }
        expect(total).toBe(RING_SIZE);
        for (let i = 1; i < arcs.length; i++) {
          expect(arcs[i]!.range.start).toBe(arcs[i - 1]!.range.end);
        }
      }),
    );
  });

  it("ownership(n) is the exact size of rangesFor(id, n) and sums to min(n, size)", () => {
    fc.assert(
      fc.property(ringSpecArb(8), fc.integer({ min: 1, max: 4 }), (specs, n) => {
        const ring = buildRing(specs);
        const owned = ring.ownership(n);
        expect([...owned.keys()].sort()).toEqual(ring.nodes().sort());
        let sum = 0;
        for (const { id } of specs) {
          const exact = ring.rangesFor(id, n).reduce((a, r) => a + rangeSize(r), 0n);
          expect(owned.get(id)).toBe(Number(exact) / Number(RING_SIZE));
          sum += owned.get(id)!;
        }
        expect(sum).toBeCloseTo(Math.min(n, specs.length), 9);
      }),
    );
  });

  it("a single node, or n >= nodes, replicates the whole ring as one range", () => {
    const ring = new HashRing({ virtualNodes: 10 });
    ring.addNode("a");
    const [full] = ring.rangesFor("a", 1);
    expect(ring.rangesFor("a", 1)).toHaveLength(1);
    expect(full!.start).toBe(full!.end);
    expect(full!.end).toBe(ring.tokensOf("a").at(-1));
    ring.addNode("b");
    expect(ring.rangesFor("b", 2)).toHaveLength(1);
    expect(ring.rangesFor("b", 1).length).toBeGreaterThan(1);
    expect(ring.ownership(2)).toEqual(
      new Map([
        ["a", 1],
        ["b", 1],
      ]),
    );
  });

  it("a wrapping range is reported first and merged across the top of the ring", () => {
    const ring = new HashRing();
    ring.addNode("a", { tokens: [100n, MAX_TOKEN - 100n] });
    ring.addNode("b", { tokens: [200n, 300n] });
    // a owns (300, 2^64-100] and (2^64-100, 100]: merged into one wrapping range.
    expect(ring.rangesFor("a", 1)).toEqual([{ start: 300n, end: 100n }]);
    expect(ring.rangesFor("b", 1)).toEqual([{ start: 100n, end: 300n }]);
    expect(ring.preferenceListForToken(0n, 2)).toEqual(["a", "b"]);
    expect(ring.preferenceListForToken(MAX_TOKEN, 1)).toEqual(["a"]);
    expect(ring.preferenceListForToken(101n, 1)).toEqual(["b"]);
  });

  it("equal tokens on two nodes: the smaller id owns the arc, whatever the order of adding", () => {
    for (const order of [
      ["x", "y"],
      ["y", "x"],
    ]) {
      const ring = new HashRing();
      for (const id of order) ring.addNode(id, { tokens: [50n] });
      expect(ring.preferenceListForToken(7n, 2)).toEqual(["x", "y"]);
      expect(ring.rangesFor("x", 1)).toEqual([{ start: 50n, end: 50n }]);
      expect(ring.rangesFor("y", 1)).toEqual([]);
      expect(ring.replicaRanges(2)).toEqual([
        { range: { start: 50n, end: 50n }, replicas: ["x", "y"] },
      ]);
    }
  });
});

describe("membership", () => {
  it("results do not depend on the order nodes were added in", () => {
    fc.assert(
      fc.property(
        ringSpecArb(),
        fc.array(fc.double({ noNaN: true })),
        fc.array(fc.string(), { maxLength: 10 }),
        (specs, weights, keys) => {
          const shuffled = specs
            .map((s, i) => ({ s, w: weights[i] ?? i }))
            .sort((a, b) => a.w - b.w)
            .map((x) => x.s);
          const a = buildRing(specs);
          const b = buildRing(shuffled);
          expect(b.toJSON()).toEqual(a.toJSON());
          expect(b.replicaRanges(3)).toEqual(a.replicaRanges(3));
          for (const key of keys)
            expect(b.preferenceList(key, 3)).toEqual(a.preferenceList(key, 3));
        },
      ),
    );
  });

  it("adding then removing a node restores every list; clones are independent", () => {
    fc.assert(
      fc.property(ringSpecArb(10), nodeSpecArb, (specs, extra) => {
        fc.pre(!specs.some((s) => s.id === extra.id));
        const ring = buildRing(specs);
        const model = ModelRing.fromSpecs(specs);
        const before = model.probes().map((t) => ring.preferenceListForToken(t, 3));
        const copy = ring.clone();
        buildRing([extra]); // validates the spec the same way addNode will
        if (extra.kind === "tokens") ring.addNode(extra.id, { tokens: extra.tokens });
        else ring.addNode(extra.id);
        expect(ring.hasNode(extra.id)).toBe(true);
        expect(copy.hasNode(extra.id)).toBe(false);
        ring.removeNode(extra.id);
        expect(model.probes().map((t) => ring.preferenceListForToken(t, 3))).toEqual(before);
        expect(model.probes().map((t) => copy.preferenceListForToken(t, 3))).toEqual(before);
      }),
    );
  });

  it("derives V tokens per node from 'id#i', or takes explicit tokens", () => {
    const ring = new HashRing();
    ring.addNode("node-1");
    const tokens = ring.tokensOf("node-1");
    expect(tokens).toHaveLength(150);
    expect(ring.hasExplicitTokens("node-1")).toBe(false);
    // Golden: the tokens of these vnode names are fixed in testdata/tokens.json.
    expect(tokens).toContain(tokenOf("node-1#0"));
    expect(tokens).toContain(tokenOf("node-1#149"));
    expect(tokens).not.toContain(tokenOf("node-1#150"));
    expect(tokens).toEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(vnodeTokens("node-1")).toEqual(tokens);
    expect(vnodeTokens("node-1", 3)).toHaveLength(3);

    ring.addNode("big", { virtualNodes: 300 });
    expect(ring.tokensOf("big")).toHaveLength(300);
    ring.addNode("manual", { tokens: [5n, 1n, MAX_TOKEN] });
    expect(ring.tokensOf("manual")).toEqual([1n, 5n, MAX_TOKEN]);
    expect(ring.hasExplicitTokens("manual")).toBe(true);
    expect(ring.size).toBe(3);
    expect(ring.vnodeCount).toBe(453);
    expect(ring.nodes()).toEqual(["big", "manual", "node-1"]);
  });

  it("a node with more virtual nodes owns proportionally more", () => {
    const ring = new HashRing();
    for (let i = 0; i < 8; i++) ring.addNode(`n${i}`);
    ring.addNode("heavy", { virtualNodes: 600 });
    const own = ring.ownership();
    const others = [...own].filter(([id]) => id !== "heavy").map(([, v]) => v);
    const ratio = own.get("heavy")! / (others.reduce((a, b) => a + b) / others.length);
    expect(ratio).toBeGreaterThan(3.2);
    expect(ratio).toBeLessThan(4.8);
  });

  it("an empty ring answers with nothing", () => {
    const ring = new HashRing();
    expect(ring.preferenceList("k", 3)).toEqual([]);
    expect(ring.preferenceList("k", 3, { skip: () => false })).toEqual([]);
    expect([...ring.walk("k")]).toEqual([]);
    expect(ring.replicaRanges(3)).toEqual([]);
    expect(ring.ownership()).toEqual(new Map());
    ring.addNode("a");
    ring.removeNode("a");
    expect(ring.preferenceList(new Uint8Array([1]), 1)).toEqual([]);
    expect(ring.size).toBe(0);
  });

  it("a skip that rejects everybody yields an empty list", () => {
    const ring = new HashRing({ virtualNodes: 4 });
    for (let i = 0; i < 12; i++) ring.addNode(`n${i}`);
    expect(ring.preferenceList("k", 3, { skip: () => true })).toEqual([]);
    expect(ring.preferenceList("k", 0)).toEqual([]);
  });

  it("walk keeps the membership it started with", () => {
    const ring = new HashRing({ virtualNodes: 4 });
    for (const id of ["a", "b", "c"]) ring.addNode(id);
    const it = ring.walk("key");
    const first = it.next().value;
    ring.removeNode("b");
    ring.addNode("d");
    const rest = [...it];
    expect(new Set([first, ...rest])).toEqual(new Set(["a", "b", "c"]));
  });
});

describe("rejections (the ring is unchanged after a rejected call)", () => {
  it("duplicate and unknown nodes", () => {
    const ring = new HashRing({ virtualNodes: 3 });
    ring.addNode("a");
    expect(() => ring.addNode("a")).toThrow(is(isDuplicateNodeError));
    expect(() => ring.addNode("a", { tokens: [1n] })).toThrow(is(isDuplicateNodeError));
    expect(() => ring.removeNode("zz")).toThrow(is(isUnknownNodeError));
    expect(() => ring.tokensOf("zz")).toThrow(is(isUnknownNodeError));
    expect(() => ring.hasExplicitTokens("zz")).toThrow(is(isUnknownNodeError));
    expect(() => ring.rangesFor("zz", 1)).toThrow(is(isUnknownNodeError));
    expect(ring.tokensOf("a")).toHaveLength(3);
  });

  it("bad node ids, tokens, counts and keys", () => {
    const ring = new HashRing({ virtualNodes: 3 });
    ring.addNode("a");
    const before = ring.toJSON();
    for (const id of ["", "x".repeat(257), 5, null]) {
      expect(() => ring.addNode(id as string)).toThrow(is(isInvalidRingArgumentError));
    }
    ring.addNode("x".repeat(256));
    ring.removeNode("x".repeat(256));
    const badTokens: unknown[] = [[], [-1n], [MAX_TOKEN + 1n], [1], ["1"], [1n, 1n], "1", null];
    for (const tokens of badTokens) {
      expect(() => ring.addNode("b", { tokens: tokens as Token[] }), String(tokens)).toThrow(
        is(isInvalidRingTokenError),
      );
    }
    expect(() =>
      ring.addNode("b", { tokens: new Array(4097).fill(0n).map((_, i) => BigInt(i)) }),
    ).toThrow(is(isInvalidRingTokenError));
    expect(() => ring.addNode("b", { tokens: [1n], virtualNodes: 2 })).toThrow(
      is(isInvalidRingArgumentError),
    );
    for (const v of [0, 1.5, 5000]) {
      expect(() => ring.addNode("b", { virtualNodes: v })).toThrow(is(isInvalidRingOptionsError));
    }
    for (const n of [-1, 1.5, Number.NaN, "3"]) {
      expect(() => ring.preferenceList("k", n as number)).toThrow(is(isInvalidRingArgumentError));
      expect(() => ring.rangesFor("a", n as number)).toThrow(is(isInvalidRingArgumentError));
      expect(() => ring.ownership(n as number)).toThrow(is(isInvalidRingArgumentError));
    }
    expect(() => ring.preferenceList(42 as unknown as string, 3)).toThrow(
      is(isInvalidRingArgumentError),
    );
    expect(() => ring.preferenceListForToken(-1n, 3)).toThrow(is(isInvalidRingTokenError));
    expect(() => ring.walkFromToken(RING_SIZE)).toThrow(is(isInvalidRingTokenError));
    expect(() => new HashRing({ virtualNodes: 0 })).toThrow(is(isInvalidRingOptionsError));
    expect(ring.toJSON()).toEqual(before);
    expect(SPEC_VIRTUAL_NODES).toBeGreaterThan(0);
  });
});
