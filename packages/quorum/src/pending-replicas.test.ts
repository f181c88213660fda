import { HashRing } from "@distkv/ring";
import { describe, expect, test } from "vitest";
import { utf8 } from "../test/helpers.js";
import { Coordinator } from "./coordinator.js";
import { isUnavailableError } from "./errors.js";
import { InMemoryHintStore } from "./in-memory-hint-store.js";
import { InMemoryReplicaStore } from "./in-memory-replica-store.js";
import { Replica } from "./replica.js";
import { InMemoryMembership, InMemoryNetwork, ManualClock } from "./testing/index.js";

/**
 * Three nodes on the ring and a fourth taking keys over (joining): the coordinator of node-1
 * is given node-4 as a pending replica of every key.
 */
function handOver(options: { sloppyQuorum?: boolean } = {}) {
  const clock = new ManualClock();
  const network = new InMemoryNetwork({ clock });
  const membership = new InMemoryMembership();
  const ring = new HashRing();
  for (const id of ["node-1", "node-2", "node-3"]) ring.addNode(id);
  const stores = new Map<string, InMemoryReplicaStore>();
  for (const id of ["node-1", "node-2", "node-3", "node-4"]) {
    const store = new InMemoryReplicaStore();
    stores.set(id, store);
    network.register(id, new Replica({ localId: id, store, hintStore: new InMemoryHintStore() }));
  }
  const coordinator = new Coordinator({
    ring,
    membership: membership.view("node-1"),
    store: stores.get("node-1")!,
    transport: network.transport("node-1"),
    clock,
    pendingReplicas: () => ["node-4"],
    options: { replicas: 3, writeQuorum: 2, readQuorum: 2, ...options },
  });
  return { coordinator, network, membership, stores, clock };
}

describe("pending replicas (hand-over of a range)", () => {
  test("a write is acknowledged only after the pending node has it too (W + pending)", async () => {
    const { coordinator, network, stores } = handOver();
    // Even with one old replica unreachable, W=2 of the old plus the pending node are needed.
    network.setNodeFault("node-2", "unresponsive");
    const key = utf8("k");
    const write = coordinator.put(key, utf8("v"), { timeoutMs: 50 });
    const result = await write;
    expect(result.replicasAcked).toBe(3);
    expect(stores.get("node-4")!.peek(key)).toBeDefined();
    expect(stores.get("node-3")!.peek(key)).toBeDefined();
  });

  test("reads ignore the pending node", async () => {
    const { coordinator, network, stores } = handOver();
    const key = utf8("k");
    await coordinator.put(key, utf8("v"), { consistency: "all" });
    expect(stores.get("node-4")!.peek(key)).toBeDefined();
    // A read at `all` needs the three ring replicas only: it succeeds with node-4 gone.
    network.setNodeFault("node-4", "crashed");
    const got = await coordinator.get(key, { consistency: "all" });
    expect(got.found).toBe(true);
  });

  test("W + pending acknowledgements are required: any W + pending of the N + pending nodes", async () => {
    const { coordinator, membership, stores } = handOver({ sloppyQuorum: false });
    // With the pending node down, the three old replicas still make W + 1 = 3: once node-4
    // replaces one of them, at least W of the new replicas hold the write.
    membership.setAlive("node-4", false);
    const ok = await coordinator.put(utf8("a"), utf8("v"));
    expect(ok.replicasAcked).toBe(3);
    for (const id of ["node-1", "node-2", "node-3"]) {
      expect(stores.get(id)!.peek(utf8("a"))).toBeDefined();
    }
    // One more node down and 3 can no longer be met: unavailable, not silently short.
    membership.setAlive("node-2", false);
    const error = await coordinator.put(utf8("k"), utf8("v")).catch((e: unknown) => e);
    expect(error, String(error)).toSatisfy(isUnavailableError);
  });

  test("the pending list does not double-count a node that already is a replica", async () => {
    const clock = new ManualClock();
    const network = new InMemoryNetwork({ clock });
    const membership = new InMemoryMembership();
    const ring = new HashRing();
    for (const id of ["node-1", "node-2", "node-3"]) ring.addNode(id);
    const store = new InMemoryReplicaStore();
    for (const id of ["node-1", "node-2", "node-3"]) {
      network.register(
        id,
        new Replica({
          localId: id,
          store: id === "node-1" ? store : new InMemoryReplicaStore(),
          hintStore: new InMemoryHintStore(),
        }),
      );
    }
    const coordinator = new Coordinator({
      ring,
      membership: membership.view("node-1"),
      store,
      transport: network.transport("node-1"),
      clock,
      pendingReplicas: () => ["node-2", "node-1"],
    });
    const result = await coordinator.put(utf8("k"), utf8("v"), { consistency: "all" });
    expect(result.replicasAcked).toBe(3);
  });
});
