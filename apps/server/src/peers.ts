import type {
  ReplicaCallOptions,
  ReplicaTransport,
  ReplicaWriteOptions,
  SiblingPayload,
} from "@distkv/quorum";
import { createPeerClient, isUnavailableError, type PeerClient } from "@distkv/rpc";
import { decodeSiblingSet, type SiblingSet } from "@distkv/vclock";
import type { ClusterMembership } from "./membership.js";

/**
 * One PeerClient (one multiplexed stream) per remote node, created on first use. A call that
 * succeeds counts as hearing from the node; one that fails with UNAVAILABLE makes the node
 * routed around for a moment (gossip alone decides that it is dead).
 */
export class PeerPool implements ReplicaTransport {
  private readonly byAddress = new Map<string, PeerClient>();

  constructor(
    private readonly membership: ClusterMembership,
    private readonly localId: string,
  ) {}

  /** The client for a node address (used before the node's id is known, e.g. for seeds). */
  forAddress(address: string): PeerClient {
    let client = this.byAddress.get(address);
    if (client === undefined) {
      client = createPeerClient({ baseUrl: address, nodeId: this.localId, peer: address });
      this.byAddress.set(address, client);
    }
    return client;
  }

  forNode(nodeId: string): PeerClient {
    const address = this.membership.addressOf(nodeId);
    if (address === undefined) throw new Error(`unknown node ${nodeId}`);
    return this.forAddress(address);
  }

  async write(
    nodeId: string,
    key: Uint8Array,
    payload: SiblingPayload,
    options: ReplicaWriteOptions,
  ): Promise<void> {
    await this.observe(
      nodeId,
      this.forNode(nodeId).replicaWrite(
        options.hintFor === undefined
          ? { key, siblings: payload.bytes }
          : { key, siblings: payload.bytes, hintTargetNodeId: options.hintFor },
        { timeoutMs: Math.max(1, options.timeoutMs), signal: options.signal },
      ),
    );
  }

  async read(
    nodeId: string,
    key: Uint8Array,
    options: ReplicaCallOptions,
  ): Promise<SiblingSet<Uint8Array> | undefined> {
    const res = await this.observe(
      nodeId,
      this.forNode(nodeId).replicaRead(key, {
        timeoutMs: Math.max(1, options.timeoutMs),
        signal: options.signal,
      }),
    );
    return res.found ? decodeSiblingSet(res.siblings) : undefined;
  }

  /** Liveness bookkeeping around a call: success is news of the node, UNAVAILABLE a detour. */
  async observe<T>(nodeId: string, call: Promise<T>): Promise<T> {
    try {
      const result = await call;
      this.membership.heard(nodeId);
      return result;
    } catch (e) {
      if (isUnavailableError(e)) this.membership.unreachable(nodeId);
      throw e;
    }
  }

  async close(): Promise<void> {
    const clients = [...this.byAddress.values()];
    this.byAddress.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
