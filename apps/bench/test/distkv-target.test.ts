import { NodeState } from "@distkv/rpc";
import { describe, expect, it } from "vitest";
import { ringMembers } from "../src/targets/distkv.js";

const node = (id: string, state: NodeState) => ({ id, state });

describe("ringMembers (when the DistKV target counts a cluster as formed)", () => {
  it("counts only alive members: a joining node is alive but not on the ring yet", () => {
    const forming = [
      node("n1", NodeState.ALIVE),
      node("n2", NodeState.JOINING),
      node("n3", NodeState.JOINING),
    ];
    expect(ringMembers({ nodes: forming })).toBe(1);
    const formed = forming.map((n) => ({ ...n, state: NodeState.ALIVE }));
    expect(ringMembers({ nodes: formed })).toBe(3);
  });

  it("does not count suspect, dead, leaving or left members", () => {
    const states = [NodeState.SUSPECT, NodeState.DEAD, NodeState.LEAVING, NodeState.LEFT];
    const nodes = [node("n0", NodeState.ALIVE), ...states.map((s, i) => node(`n${i + 1}`, s))];
    expect(ringMembers({ nodes })).toBe(1);
  });
});
