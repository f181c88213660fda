import { createPeerClient, type DistKVClient, NodeState, type RepairResponse } from "@distkv/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterHarness, eventually } from "./harness.js";

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);
// Rounds only on demand, so that the test decides when replicas are compared.
const EXTRA = ["-anti-entropy-interval-ms=0"];

async function repair(client: DistKVClient): Promise<RepairResponse> {
  let last: RepairResponse | undefined;
  for await (const r of client.cluster.repair({})) last = r;
  expect(last?.done).toBe(true);
  return last!;
}

async function putMany(client: DistKVClient, prefix: string, count: number) {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        client.kv.put({ key: b(`${prefix}${i + j}`), value: b(`value-${prefix}${i + j}`) }),
      ),
    );
  }
}

describe("anti-entropy between real processes", () => {
  const h = new ClusterHarness();
  afterEach(async () => {
    await h.cleanup();
  });

  it("repairs a replica that missed writes in one round; bytes grow with the difference, not the data", async () => {
    // Three nodes, N=3: there is no substitute to hold hints, so node3 misses what it misses.
    const first = await h.start("node1", { extra: EXTRA });
    await h.start("node2", { seeds: [first.address], extra: EXTRA });
    await h.start("node3", { seeds: [first.address], extra: EXTRA });
    const ids = ["node1", "node2", "node3"];
    const allAlive = async () => {
      for (const id of ids) {
        const s = await h.client(id).cluster.status({});
        if (s.nodes.filter((n) => n.state === NodeState.ALIVE).length !== 3) return false;
      }
      return true;
    };
    await eventually(allAlive, 60_000, 200);
    const c1 = h.client("node1");
    const rounds: { stored: number; missed: number; bytes: number; repaired: number }[] = [];
    let stored = 0;
    for (const [base, missed] of [
      [1000, 20],
      [0, 200],
      [3000, 20],
    ] as const) {
      await putMany(c1, `base${rounds.length}-`, base);
      stored += base;
      // Everyone identical before node3 goes away: a round finds nothing to repair.
      expect((await repair(c1)).keysDiffering).toBe(0n);
      await h.kill("node3");
      await putMany(c1, `missed${rounds.length}-`, missed);
      stored += missed;
      await h.restart("node3", [first.address]);
      await eventually(allAlive, 60_000, 200);
      const r = await repair(h.client("node3"));
      rounds.push({
        stored,
        missed,
        bytes: Number(r.bytesExchanged),
        repaired: Number(r.keysRepaired),
      });
      expect(r.failures).toEqual([]);
      expect(r.peersFailed).toBe(0);
      expect(r.keysRepaired).toBe(BigInt(missed));
      // One round later the trees agree everywhere.
      expect((await repair(c1)).keysDiffering).toBe(0n);
    }
    console.log(
      `anti-entropy: ${rounds
        .map(
          (r) =>
            `${r.stored} keys stored, ${r.missed} missed -> ${r.repaired} repaired, ${r.bytes} bytes exchanged`,
        )
        .join("; ")}`,
    );
    // 10x the difference costs several times the bytes; 4x the data with the same difference
    // does not cost 4x.
    expect(rounds[1]!.bytes).toBeGreaterThan(3 * rounds[0]!.bytes);
    expect(rounds[2]!.bytes).toBeLessThan(2 * rounds[0]!.bytes);

    // The replicas now store identical sibling sets (read as a peer, without read repair).
    const peers = ids.map((id) =>
      createPeerClient({ baseUrl: h.nodes.get(id)!.address, nodeId: "test-checker" }),
    );
    try {
      for (const key of ["missed0-0", "missed1-199", "missed2-7", "base2-2999"]) {
        const copies = await Promise.all(peers.map((p) => p.replicaRead(b(key))));
        for (const c of copies) expect(c.found, key).toBe(true);
        expect(Buffer.from(copies[2]!.siblings).equals(Buffer.from(copies[0]!.siblings))).toBe(
          true,
        );
      }
    } finally {
      await Promise.all(peers.map((p) => p.close()));
    }
  }, 240_000);
});
