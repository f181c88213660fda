/** The mux wire of PeerService.Channel (shared by PeerClient and registerPeerService). */
import {
  type ChannelRequest,
  ChannelRequestSchema,
  type ChannelResponse,
  ChannelResponseSchema,
} from "./gen/distkv/v1/peer_pb.js";
import type { KindOf, RequestOf, ResponseOf } from "./mux-typed.js";
import { createOneofMuxWire } from "./mux-wire.js";

export const peerWire = createOneofMuxWire(ChannelRequestSchema, ChannelResponseSchema);

/** The node-to-node call kinds: "replicaWrite" | "replicaRead" | "ping" (grows with peer.proto). */
export type PeerKind = KindOf<ChannelRequest>;
export type PeerRequestOf<K extends PeerKind> = RequestOf<ChannelRequest, K>;
export type PeerResponseOf<K extends PeerKind> = ResponseOf<ChannelResponse, K>;
