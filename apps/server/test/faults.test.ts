import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { FaultService, NodeState } from "@distkv/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterHarness, eventually } from "./harness.js";

const FLAG = "-enable-fault-injection";

describe("fault injection between real processes (test flag)", () => {
  const h = new ClusterHarness();
  afterEach(async () => {
    await h.cleanup();
  });

  it("partitions a node from the others, which declare it dead, and heals", async () => {
    const first = await h.start("node1", { extra: [FLAG] });
    await h.start("node2", { seeds: [first.address], extra: [FLAG] });
    await h.start("node3", { seeds: [first.address], extra: [FLAG] });
    const stateOn = async (viewer: string, target: string) =>
      (await h.client(viewer).cluster.status({})).nodes.find((n) => n.id === target)?.state;
    await eventually(async () => (await stateOn("node1", "node3")) === NodeState.ALIVE, 30_000);
    await eventually(async () => (await stateOn("node3", "node1")) === NodeState.ALIVE, 30_000);

    const faults = (id: string) => createClient(FaultService, h.client(id).transport);
    const cut = (to: string[]) => ({
      faults: to.map((nodeId) => ({ nodeId, dropProbability: 1 })),
    });
    await faults("node1").setLinkFaults(cut(["node3"]));
    await faults("node2").setLinkFaults(cut(["node3"]));
    await faults("node3").setLinkFaults(cut(["node1", "node2"]));
    await eventually(async () => (await stateOn("node1", "node3")) === NodeState.DEAD, 40_000, 200);
    await eventually(async () => (await stateOn("node3", "node2")) === NodeState.DEAD, 40_000, 200);
    // The majority side still serves quorum writes (node3's copies become hints).
    const put = await h
      .client("node1")
      .kv.put({ key: new TextEncoder().encode("k"), value: new TextEncoder().encode("v") });
    expect(put.replicasAcked).toBeGreaterThanOrEqual(2);

    const counters = await faults("node3").setLinkFaults({ faults: [] });
    expect(counters.droppedTotal).toBeGreaterThan(0n);
    await faults("node1").setLinkFaults({ faults: [] });
    await faults("node2").setLinkFaults({ faults: [] });
    // Healed: the sides find each other again (reconnect push-pull, refutation).
    await eventually(
      async () => (await stateOn("node1", "node3")) === NodeState.ALIVE,
      40_000,
      200,
    );
    await eventually(
      async () => (await stateOn("node3", "node2")) === NodeState.ALIVE,
      40_000,
      200,
    );
  }, 150_000);

  it("is not served without the flag, and rejects bad rules", async () => {
    await h.start("plain", { extra: ["-replicas=1", "-read-quorum=1", "-write-quorum=1"] });
    const plain = createClient(FaultService, h.client("plain").transport);
    const err = await plain.setLinkFaults({ faults: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(Code[(err as ConnectError).code]).toBe(Code[Code.Unimplemented]);

    await h.start("faulty", {
      extra: ["-replicas=1", "-read-quorum=1", "-write-quorum=1", FLAG],
    });
    const faulty = createClient(FaultService, h.client("faulty").transport);
    const bad = await faulty
      .setLinkFaults({ faults: [{ nodeId: "x", dropProbability: 2 }] })
      .catch((e: unknown) => e);
    expect(Code[(bad as ConnectError).code]).toBe(Code[Code.InvalidArgument]);
  });
});
