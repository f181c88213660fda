/** The server side of PeerService: typed handlers per call kind over the mux server. */
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { ChannelRequest, ChannelResponse } from "./gen/distkv/v1/peer_pb.js";
import {
  ChannelRequestSchema,
  ChannelResponseSchema,
  PeerService,
} from "./gen/distkv/v1/peer_pb.js";
import { createMuxStreamHandler, type MuxServerOptions } from "./mux-server.js";
import { createTypedLookup, type MuxServiceHandlers } from "./mux-typed.js";
import { peerWire } from "./peer-wire.js";

/** One handler per call kind, e.g. `{ replicaWrite: async (req, ctx) => ({}) }`. */
export type PeerHandlers = MuxServiceHandlers<ChannelRequest, ChannelResponse>;

/**
 * Per-stream in-flight bytes of the peer channel: larger than the pipeline's, since one stream
 * carries all of a peer's replication, read repair, handoff and anti-entropy traffic.
 */
export const DEFAULT_PEER_MUX_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export interface PeerServiceOptions extends MuxServerOptions {
  /**
   * This node's id, returned by the built-in ping handler (used when `handlers.ping` is unset).
   * @default ""
   */
  nodeId?: string;
}

/** The implementation of PeerService.Channel, for composing a router by hand. */
export function createPeerChannelHandler(
  handlers: PeerHandlers,
  options: PeerServiceOptions = {},
): (
  requests: AsyncIterable<ChannelRequest>,
  ctx: HandlerContext,
) => AsyncIterable<ChannelResponse> {
  const nodeId = options.nodeId ?? "";
  const all: PeerHandlers = { ...handlers, ping: handlers.ping ?? (() => ({ nodeId })) };
  const lookup = createTypedLookup(ChannelRequestSchema, ChannelResponseSchema, all);
  return createMuxStreamHandler(peerWire, lookup, {
    maxInFlightBytes: DEFAULT_PEER_MUX_MAX_IN_FLIGHT_BYTES,
    ...options,
  });
}

/** Registers PeerService on a Connect router. */
export function registerPeerService(
  router: ConnectRouter,
  handlers: PeerHandlers,
  options: PeerServiceOptions = {},
): ConnectRouter {
  return router.service(PeerService, { channel: createPeerChannelHandler(handlers, options) });
}
