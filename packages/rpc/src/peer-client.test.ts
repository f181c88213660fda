import { describe, expect, it } from "vitest";
import { defer, startServer } from "../test/harness.js";
import type { ReplicaWriteRequest } from "./gen/distkv/v1/peer_pb.js";
import { createPeerClient } from "./peer-client.js";
import { registerPeerService } from "./peer-service.js";

describe("PeerClient / registerPeerService", () => {
  it("carries replica writes (with and without hint target), reads and pings", async () => {
    const store = new Map<string, Uint8Array>();
    const writes: ReplicaWriteRequest[] = [];
    const server = await startServer((r) =>
      registerPeerService(
        r,
        {
          replicaWrite: (req) => {
            writes.push(req);
            store.set(Buffer.from(req.key).toString("hex"), req.siblings);
            return {};
          },
          replicaRead: (req) => {
            const s = store.get(Buffer.from(req.key).toString("hex"));
            return s === undefined ? { found: false } : { found: true, siblings: s };
          },
        },
        { nodeId: "node-b" },
      ),
    );
    const peer = createPeerClient({ baseUrl: server.url, nodeId: "node-a" });
    defer(() => peer.abort());

    const siblings = new Uint8Array([9, 8, 7]);
    await peer.replicaWrite({ key: Buffer.from("k"), siblings });
    await peer.replicaWrite({ key: Buffer.from("h"), siblings, hintTargetNodeId: "node-c" });
    expect(writes[0]?.hintTargetNodeId).toBeUndefined();
    expect(writes[1]?.hintTargetNodeId).toBe("node-c");

    const found = await peer.replicaRead(Buffer.from("k"));
    expect(found.found).toBe(true);
    expect(found.siblings).toEqual(siblings);
    expect((await peer.replicaRead(Buffer.from("missing"))).found).toBe(false);

    const pong = await peer.ping();
    expect(pong.nodeId).toBe("node-b");
    expect(pong.rttMs).toBeGreaterThan(0);
    // The generic call() reaches every kind by name.
    expect((await peer.call("ping", {})).nodeId).toBe("node-b");
    expect(peer.state).toBe("ready");
    await peer.close();
    expect(peer.state).toBe("closed");
  });

  it("refuses handlers for kinds peer.proto does not define", async () => {
    await expect(
      startServer((r) => registerPeerService(r, { replicaDelete: () => ({}) } as never)),
    ).rejects.toThrow(/not a call kind/);
  });
});
