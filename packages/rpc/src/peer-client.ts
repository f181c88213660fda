/**
 * The node-to-node channel: one PeerClient per remote node, one long-lived multiplexed
 * PeerService.Channel stream under it. The quorum code calls `replicaWrite` / `replicaRead`;
 * new kinds added to peer.proto are reachable through `call()` at once.
 */

import type {
  ChannelRequest,
  ChannelResponse,
  PingResponse,
  ReplicaReadResponse,
  ReplicaWriteRequest,
  ReplicaWriteResponse,
} from "./gen/distkv/v1/peer_pb.js";
import { ChannelRequestSchema, PeerService } from "./gen/distkv/v1/peer_pb.js";
import {
  type MuxCallOptions,
  type MuxChannelState,
  MuxClient,
  type MuxClientOptions,
  type MuxClientStats,
} from "./mux-client.js";
import { createBodyFactory, type InitOf } from "./mux-typed.js";
import type { CallBodyOf, ReplyResultOf } from "./mux-wire.js";
import { type PeerKind, type PeerRequestOf, type PeerResponseOf, peerWire } from "./peer-wire.js";
import {
  createMuxStreamConnection,
  type MuxStreamConnection,
  type StreamTransportOptions,
} from "./stream-transport.js";

export interface PeerClientOptions extends MuxClientOptions, StreamTransportOptions {
  /** This node's id, sent in pings. @default "" */
  nodeId?: string;
}

export interface PingResult {
  /** The remote node's id as it reports it. */
  readonly nodeId: string;
  /** Round trip over the channel, in milliseconds. */
  readonly rttMs: number;
}

export class PeerClient {
  readonly baseUrl: string;
  readonly nodeId: string;
  private readonly mux: MuxClient<
    ChannelRequest,
    ChannelResponse,
    CallBodyOf<ChannelRequest>,
    ReplyResultOf<ChannelResponse>
  >;
  private readonly stream: MuxStreamConnection<ChannelRequest, ChannelResponse>;
  private readonly body = createBodyFactory(ChannelRequestSchema);

  constructor(options: PeerClientOptions) {
    this.stream = createMuxStreamConnection(options, PeerService, PeerService.method.channel);
    this.baseUrl = this.stream.baseUrl;
    this.nodeId = options.nodeId ?? "";
    this.mux = new MuxClient(this.stream.open, peerWire, {
      ...options,
      peer: options.peer ?? this.baseUrl,
    });
  }

  get state(): MuxChannelState {
    return this.mux.state;
  }

  stats(): MuxClientStats {
    return this.mux.stats();
  }

  /** Any call kind of peer.proto, typed by kind. */
  async call<K extends PeerKind>(
    kind: K,
    request: InitOf<PeerRequestOf<K>>,
    options?: MuxCallOptions,
  ): Promise<PeerResponseOf<K>> {
    const result = await this.mux.request(this.body(kind, request as never), options);
    return result.value as PeerResponseOf<K>;
  }

  /** Stores an encoded sibling set on the peer (merged with what it has). */
  replicaWrite(
    request: InitOf<ReplicaWriteRequest>,
    options?: MuxCallOptions,
  ): Promise<ReplicaWriteResponse> {
    return this.call("replicaWrite", request, options);
  }

  /** The peer's encoded sibling set for `key`, or `found: false`. */
  replicaRead(key: Uint8Array, options?: MuxCallOptions): Promise<ReplicaReadResponse> {
    return this.call("replicaRead", { key }, options);
  }

  /** A round trip over the channel (opens it if needed). */
  async ping(options?: MuxCallOptions): Promise<PingResult> {
    const t0 = performance.now();
    const res: PingResponse = await this.call("ping", { fromNodeId: this.nodeId }, options);
    return { nodeId: res.nodeId, rttMs: performance.now() - t0 };
  }

  /** Lets calls in flight finish (each bounded by its deadline), then closes stream and connection. */
  async close(): Promise<void> {
    await this.mux.close();
    this.stream.close();
  }

  /** Fails everything pending at once and closes stream and connection. */
  abort(reason?: unknown): void {
    this.mux.abort(reason);
    this.stream.close();
  }
}

export function createPeerClient(options: PeerClientOptions): PeerClient {
  return new PeerClient(options);
}
