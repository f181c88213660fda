import { Code, ConnectError } from "@connectrpc/connect";
import { isGossipDecodeError, type Transport, type TransportHandler } from "@distkv/gossip";
import type { GossipRequest, GossipResponse } from "@distkv/rpc";
import type { PeerLink } from "./peers.js";

const EMPTY = new Uint8Array(0);

/**
 * @distkv/gossip's transport over the peer channel: a datagram is a `gossip` call whose (empty)
 * reply is ignored, a push-pull is a `gossip` call that expects gossip's reply. The channel is
 * reliable and ordered, which gossip does not need but does not mind; a datagram to a node
 * that cannot be reached fails its call quietly, as a lost datagram would.
 */
export class PeerGossipTransport implements Transport {
  private handler: TransportHandler | undefined;

  constructor(
    /** The peer channel to an address (the server's PeerPool). */
    private readonly forAddress: (address: string) => PeerLink,
    private readonly localId: string,
    /** Deadline of a datagram's call: past it the datagram counts as lost. */
    private readonly datagramTimeoutMs: number,
    /** Called with the sender's id of every gossip call received. */
    private readonly onHeard: (nodeId: string) => void,
  ) {}

  send(toAddress: string, data: Uint8Array): void {
    this.forAddress(toAddress)
      .call(
        "gossip",
        { fromNodeId: this.localId, data, expectsReply: false },
        { timeoutMs: this.datagramTimeoutMs },
      )
      .catch(() => {
        // Fire and forget: gossip counts a missing ack, not a failed send.
      });
  }

  async request(toAddress: string, data: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const res = await this.forAddress(toAddress).call(
      "gossip",
      { fromNodeId: this.localId, data, expectsReply: true },
      { signal },
    );
    return res.reply;
  }

  listen(handler: TransportHandler): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /** The server side of the `gossip` peer call. */
  handle(req: GossipRequest): Pick<GossipResponse, "reply"> {
    const handler = this.handler;
    if (handler === undefined) {
      throw new ConnectError("gossip is not running on this node", Code.Unavailable);
    }
    if (req.fromNodeId !== "") this.onHeard(req.fromNodeId);
    if (!req.expectsReply) {
      handler.onMessage(req.fromNodeId, req.data);
      return { reply: EMPTY };
    }
    try {
      return { reply: handler.onRequest(req.fromNodeId, req.data) };
    } catch (e) {
      if (isGossipDecodeError(e)) {
        throw new ConnectError(`malformed gossip request: ${e.message}`, Code.InvalidArgument);
      }
      throw new ConnectError(
        `gossip refused the request: ${(e as Error).message}`,
        Code.Unavailable,
      );
    }
  }
}
