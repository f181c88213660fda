import type {
  ReplicaCallOptions,
  ReplicaTransport,
  ReplicaWriteOptions,
  SiblingPayload,
} from "@distkv/quorum";
import { createPeerClient, isUnavailableError, type PeerClient } from "@distkv/rpc";
import { decodeSiblingSet, type SiblingSet } from "@distkv/vclock";
import type { LinkFaults } from "./faults.js";
import type { ClusterMembership } from "./membership.js";

/** What the node uses of a peer channel. */
export type PeerLink = Pick<PeerClient, "call" | "replicaWrite" | "replicaRead" | "close">;

/**
 * One PeerClient (one multiplexed stream) per remote node, created on first use. A call that
 * succeeds counts as hearing from the node; one that fails with UNAVAILABLE makes the node
 * routed around for a moment (gossip alone decides that it is dead).
 */
export class PeerPool implements ReplicaTransport {
  private readonly byAddress = new Map<string, PeerLink>();

  constructor(
    private readonly membership: ClusterMembership,
    private readonly localId: string,
    /** Largest call frame this node sends a peer (the largest sibling set it may replicate). */
    private readonly maxFrameBytes: number,
    /** Test-only link faults (--enable-fault-injection); undefined in production. */
    private readonly faults?: LinkFaults,
  ) {}

  /** The client for a node address (used before the node's id is known, e.g. for seeds). */
  forAddress(address: string): PeerLink {
    let client = this.byAddress.get(address);
    if (client === undefined) {
      const real = createPeerClient({
        baseUrl: address,
        nodeId: this.localId,
        peer: address,
        maxFrameBytes: this.maxFrameBytes,
      });
      client = this.faults === undefined ? real : this.faulty(real, address, this.faults);
      this.byAddress.set(address, client);
    }
    return client;
  }

  /** A link whose calls first pass the fault rule of the node at `address`. */
  private faulty(real: PeerClient, address: string, faults: LinkFaults): PeerLink {
    const nodeAt = () => this.membership.members().find((m) => m.address === address)?.id;
    const call: PeerClient["call"] = async (kind, request, options) => {
      if (faults.active) await faults.apply(nodeAt());
      return real.call(kind, request, options);
    };
    return {
      call,
      replicaWrite: (request, options) => call("replicaWrite", request, options),
      replicaRead: (key, options) => call("replicaRead", { key }, options),
      close: () => real.close(),
    };
  }

  forNode(nodeId: string): PeerLink {
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
        // No signal: the mux call ends by the same deadline, and closing the pool fails it;
        // reading options.signal would create an AbortController per replica call.
        { timeoutMs: Math.max(1, options.timeoutMs) },
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
      this.forNode(nodeId).replicaRead(key, { timeoutMs: Math.max(1, options.timeoutMs) }),
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
