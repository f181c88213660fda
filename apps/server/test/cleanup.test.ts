import { Code, ConnectError } from "@connectrpc/connect";
import { HashRing } from "@distkv/ring";
import { type CleanupResponse, Consistency, NodeState } from "@distkv/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterHarness, eventually } from "./harness.js";

const b = (s: string) => new TextEncoder().encode(s);
const KEYS = 600;

async function allAlive(h: ClusterHarness, ids: string[]) {
  await eventually(
    async () => {
      for (const id of ids) {
        const s = await h.client(id).cluster.status({});
        const alive = s.nodes.filter((n) => n.state === NodeState.ALIVE).map((n) => n.id);
        if (!ids.every((x) => alive.includes(x))) return false;
      }
      return true;
    },
    60_000,
    200,
  );
}

async function cleanup(h: ClusterHarness, via: string, nodeId: string) {
  const messages: CleanupResponse[] = [];
  for await (const m of h.client(via).cluster.cleanup({ nodeId })) messages.push(m);
  return messages;
}

describe("cleanup after a join, with real processes", () => {
  const h = new ClusterHarness();
  afterEach(async () => {
    await h.cleanup();
  });

  it("deletes exactly the keys no replica range of the node covers any more, and no readable data", async () => {
    const first = await h.start("node1");
    await h.start("node2", { seeds: [first.address] });
    await h.start("node3", { seeds: [first.address] });
    await allAlive(h, ["node1", "node2", "node3"]);
    // Written through node1, so node1 stores every key (N = 3 of 3 nodes).
    const c1 = h.client("node1");
    for (let i = 0; i < KEYS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => c1.kv.put({ key: b(`c-${i + j}`), value: b("v") })),
      );
    }

    await h.start("node4", { seeds: [first.address] });
    const ids = ["node1", "node2", "node3", "node4"];
    await allAlive(h, ids);

    // Right after the ring changed: refused, nothing deleted.
    const early = await cleanup(h, "node1", "").then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(early?.code).toBe(Code.FailedPrecondition);
    expect(early?.rawMessage).toMatch(/the ring changed .* ago; retry once it has been stable/);

    // Once settled; asked through node2, which relays node1's stream.
    let messages: CleanupResponse[] = [];
    await eventually(
      async () => {
        try {
          messages = await cleanup(h, "node2", "node1");
          return true;
        } catch (e) {
          if (ConnectError.from(e).code !== Code.FailedPrecondition) throw e;
          return false;
        }
      },
      60_000,
      1000,
    );
    const last = messages.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.nodeId).toBe("node1");
    expect(Number(last.keysScanned)).toBe(KEYS);
    // The same ring the servers build (150 virtual nodes, tokens from the ids).
    const ring = new HashRing();
    for (const id of ids) ring.addNode(id, { virtualNodes: 150 });
    const foreign = Array.from({ length: KEYS }, (_, i) => `c-${i}`).filter(
      (k) => !ring.preferenceList(b(k), 3).includes("node1"),
    );
    expect(foreign.length).toBeGreaterThan(0);
    expect(Number(last.keysRemoved)).toBe(foreign.length);
    expect(Number(last.bytesRemoved)).toBeGreaterThan(0);

    // Every key still has all three of its replicas: readable at `all`.
    const c3 = h.client("node3");
    for (let i = 0; i < KEYS; i++) {
      const got = await c3.kv.get({ key: b(`c-${i}`), options: { consistency: Consistency.ALL } });
      expect(got.found, `c-${i}`).toBe(true);
    }
    // Again: nothing left to delete.
    const again = (await cleanup(h, "node1", "")).at(-1)!;
    expect(Number(again.keysScanned)).toBe(KEYS - foreign.length);
    expect(Number(again.keysRemoved)).toBe(0);

    // Unknown node: NOT_FOUND.
    const unknown = await cleanup(h, "node1", "node9").then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(unknown?.code).toBe(Code.NotFound);
  }, 180_000);
});
