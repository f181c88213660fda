import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRing, ringSpecArb } from "../test/model.js";
import { type InvalidRingStateError, isInvalidRingStateError } from "./errors.js";
import { HashRing } from "./hash-ring.js";
import { RING_STATE_VERSION } from "./ring-state.js";
import { MAX_TOKEN } from "./token.js";

describe("toJSON / fromJSON", () => {
  it("round-trips any ring exactly, through JSON text, including explicit tokens", () => {
    fc.assert(
      fc.property(ringSpecArb(), fc.array(fc.string(), { maxLength: 5 }), (specs, keys) => {
        const ring = buildRing(specs);
        const state = ring.toJSON();
        const back = HashRing.fromJSON(JSON.parse(JSON.stringify(state)));
        expect(back.toJSON()).toEqual(state);
        expect(back.options).toEqual(ring.options);
        for (const id of ring.nodes()) {
          expect(back.tokensOf(id)).toEqual(ring.tokensOf(id));
          expect(back.hasExplicitTokens(id)).toBe(ring.hasExplicitTokens(id));
        }
        expect(back.replicaRanges(3)).toEqual(ring.replicaRanges(3));
        for (const k of keys) expect(back.preferenceList(k, 3)).toEqual(ring.preferenceList(k, 3));
      }),
    );
  });

  it("has a compact, deterministic shape", () => {
    const ring = new HashRing({ virtualNodes: 8 });
    ring.addNode("c", { tokens: [MAX_TOKEN, 3n] });
    ring.addNode("a");
    ring.addNode("b", { virtualNodes: 16 });
    expect(ring.toJSON()).toEqual({
      version: RING_STATE_VERSION,
      virtualNodes: 8,
      nodes: [
        { id: "a" },
        { id: "b", virtualNodes: 16 },
        { id: "c", tokens: ["3", "18446744073709551615"] },
      ],
    });
    expect(JSON.stringify(new HashRing().toJSON())).toBe(
      '{"version":1,"virtualNodes":150,"nodes":[]}',
    );
  });

  const ok = { version: 1, virtualNodes: 4, nodes: [{ id: "a" }, { id: "b", tokens: ["7"] }] };
  const withNode = (node: unknown) => ({ ...ok, nodes: [{ id: "a" }, node] });
  const sparse: unknown[] = [];
  sparse[1] = "5";
  const cases: [string, unknown, string][] = [
    ["not an object", "ring", "$"],
    ["null", null, "$"],
    ["array", [], "$"],
    ["unknown top-level field", { ...ok, extra: 1 }, "$"],
    ["missing version", { virtualNodes: 4, nodes: [] }, "$.version"],
    ["future version", { ...ok, version: 2 }, "$.version"],
    ["version as string", { ...ok, version: "1" }, "$.version"],
    ["virtualNodes 0", { ...ok, virtualNodes: 0 }, "$.virtualNodes"],
    ["virtualNodes fractional", { ...ok, virtualNodes: 1.5 }, "$.virtualNodes"],
    ["virtualNodes huge", { ...ok, virtualNodes: 1e9 }, "$.virtualNodes"],
    ["nodes missing", { version: 1, virtualNodes: 4 }, "$.nodes"],
    ["nodes not an array", { ...ok, nodes: {} }, "$.nodes"],
    ["node not an object", withNode("b"), "$.nodes[1]"],
    ["unknown node field", withNode({ id: "b", weight: 2 }), "$.nodes[1]"],
    ["id missing", withNode({ tokens: ["1"] }), "$.nodes[1].id"],
    ["id empty", withNode({ id: "" }), "$.nodes[1].id"],
    ["id too long", withNode({ id: "x".repeat(257) }), "$.nodes[1].id"],
    ["id a number", withNode({ id: 7 }), "$.nodes[1].id"],
    ["duplicate id", withNode({ id: "a" }), "$.nodes[1].id"],
    ["tokens not an array", withNode({ id: "b", tokens: "1" }), "$.nodes[1].tokens"],
    ["tokens empty", withNode({ id: "b", tokens: [] }), "$.nodes[1].tokens"],
    ["token a number", withNode({ id: "b", tokens: ["1", 2] }), "$.nodes[1].tokens[1]"],
    ["token negative", withNode({ id: "b", tokens: ["-1"] }), "$.nodes[1].tokens[0]"],
    ["token leading zero", withNode({ id: "b", tokens: ["01"] }), "$.nodes[1].tokens[0]"],
    ["token hex", withNode({ id: "b", tokens: ["0x1"] }), "$.nodes[1].tokens[0]"],
    ["token 2^64", withNode({ id: "b", tokens: ["18446744073709551616"] }), "$.nodes[1].tokens[0]"],
    ["token with space", withNode({ id: "b", tokens: [" 1"] }), "$.nodes[1].tokens[0]"],
    ["token hole", withNode({ id: "b", tokens: sparse }), "$.nodes[1].tokens[0]"],
    ["duplicate token", withNode({ id: "b", tokens: ["4", "4"] }), "$.nodes[1].tokens[1]"],
    [
      "tokens and virtualNodes",
      withNode({ id: "b", tokens: ["1"], virtualNodes: 2 }),
      "$.nodes[1]",
    ],
    ["node virtualNodes 0", withNode({ id: "b", virtualNodes: 0 }), "$.nodes[1].virtualNodes"],
  ];

  it.each(cases)("rejects malformed state: %s", (_label, state, path) => {
    let caught: unknown;
    try {
      HashRing.fromJSON(state);
    } catch (e) {
      caught = e;
    }
    expect(isInvalidRingStateError(caught)).toBe(true);
    expect((caught as InvalidRingStateError).path).toBe(path);
    expect((caught as Error).message).toMatch(/^invalid ring state at \$/);
  });

  it("accepts the well-formed base state used above (so each rejection is about its defect)", () => {
    const ring = HashRing.fromJSON(ok);
    expect(ring.nodes()).toEqual(["a", "b"]);
    expect(ring.tokensOf("b")).toEqual([7n]);
    expect(ring.tokensOf("a")).toHaveLength(4);
  });
});
