import { describe, expect, test } from "vitest";
import { utf8, valuesOf } from "../test/helpers.js";
import { InMemoryCluster, ManualClock } from "./testing/index.js";

function cluster(readAllShare: number, speculativeRetryMs = 50) {
  const clock = new ManualClock();
  return new InMemoryCluster({
    nodes: 3,
    clock,
    quorum: { readAllShare, speculativeRetryMs },
  });
}

describe("read fan-out (readAllShare)", () => {
  test("with share 0 a quorum read sends one message to one peer instead of two", async () => {
    const few = cluster(0);
    const all = cluster(1);
    for (const c of [few, all]) {
      await c.put("k", utf8("v"), { consistency: "all" });
      await c.settle();
    }
    const sentBy = async (c: InMemoryCluster) => {
      const before = c.network.counters.sent;
      // Coordinated by a replica (every node is one at N=3): local + peers.
      const got = await c.node("node-1").coordinator.get("k");
      expect(valuesOf(got)).toEqual(["v"]);
      await c.settle();
      return c.network.counters.sent - before;
    };
    // A request and its reply per peer asked.
    expect(await sentBy(few)).toBe(2);
    expect(await sentBy(all)).toBe(4);
  });

  test("a read that asks only R replicas still sees the latest write acknowledged by W (R + W > N)", async () => {
    const c = cluster(0);
    for (const [i, writer] of ["node-1", "node-2", "node-3"].entries()) {
      // Each write reaches exactly W = 2 replicas: the third is unreachable while it happens.
      const key = `key-${i}`;
      const isolated = c.nodeIds.find((id) => id !== c.coordinatorFor(key) && id !== writer)!;
      c.network.setNodeFault(isolated, "crashed");
      await c.put(key, utf8(`v${i}`));
      c.network.setNodeFault(isolated, undefined);
      for (const reader of c.nodeIds) {
        const got = await c.node(reader).coordinator.get(key);
        expect(valuesOf(got), `${key} read through ${reader}`).toEqual([`v${i}`]);
      }
    }
  });

  test("a failed replica makes the read ask the next one", async () => {
    const c = cluster(0, 0);
    await c.put("k", utf8("v"), { consistency: "all" });
    await c.settle();
    const reader = "node-1";
    // Crash both peers one at a time: the read asks one, it fails, it asks the other.
    const peers = c.nodeIds.filter((id) => id !== reader);
    c.network.setNodeFault(peers[0]!, "crashed");
    expect(valuesOf(await c.node(reader).coordinator.get("k"))).toEqual(["v"]);
    c.network.setNodeFault(peers[0]!, undefined);
    c.network.setNodeFault(peers[1]!, "crashed");
    expect(valuesOf(await c.node(reader).coordinator.get("k"))).toEqual(["v"]);
  });

  test("a slow replica makes the read ask the next one after speculativeRetryMs", async () => {
    const c = cluster(0, 20);
    await c.put("k", utf8("v"), { consistency: "all" });
    await c.settle();
    const reader = "node-1";
    for (const peer of c.nodeIds.filter((id) => id !== reader)) {
      c.network.setNodeFault(peer, "unresponsive");
      const read = c.node(reader).coordinator.get("k", { timeoutMs: 1000 });
      await (c.clock as ManualClock).advance(25);
      expect(valuesOf(await read)).toEqual(["v"]);
      c.network.setNodeFault(peer, undefined);
    }
  });

  test("every round(1/share)-th read asks every replica", async () => {
    const c = cluster(0.5);
    await c.put("k", utf8("v"), { consistency: "all" });
    await c.settle();
    const sent: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = c.network.counters.sent;
      await c.node("node-1").coordinator.get("k");
      await c.settle();
      sent.push(c.network.counters.sent - before);
    }
    expect(sent).toEqual([4, 2, 4, 2]);
  });

  test("timestampCounters: dots take counters of at least the clock in ms", async () => {
    const c = new InMemoryCluster({
      nodes: 3,
      clock: new ManualClock(1_000_000),
      quorum: { timestampCounters: true },
    });
    const w = await c.put("k", utf8("v"));
    expect(w.version.counter).toBeGreaterThanOrEqual(1_000_000);
  });
});
