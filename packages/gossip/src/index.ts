/**
 * @distkv/gossip: SWIM membership and failure detection (with Lifeguard's local health and
 * dynamic suspicion) over an abstract transport.
 *
 * For users: `Gossip`, its config and events, the `Member` type. For the server that wires it
 * to the peer channel: the `Transport` interface, `Clock`, and the codec constants (the bytes are
 * carried opaquely). The simulated network lives in `@distkv/gossip/testing`. Everything not
 * exported here is internal.
 */

export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export { decodeDatagram, encodeDatagram, GOSSIP_WIRE_VERSION } from "./codec.js";
export type {
  GossipConfig,
  GossipPreset,
  ResolvedGossipConfig,
  SuspicionBounds,
} from "./config.js";
export {
  GOSSIP_PRESETS,
  pushPullIntervalFor,
  resolveGossipConfig,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeoutMs,
} from "./config.js";
export type { GossipErrorOptions } from "./errors.js";
export {
  GossipAbortedError,
  GossipDecodeError,
  GossipError,
  GossipJoinError,
  GossipLifecycleError,
  InvalidGossipArgumentError,
  InvalidGossipConfigError,
  isGossipAbortedError,
  isGossipDecodeError,
  isGossipError,
  isGossipJoinError,
  isGossipLifecycleError,
  isInvalidGossipArgumentError,
  isInvalidGossipConfigError,
  isPushPullError,
  PushPullError,
} from "./errors.js";
export type { MemberEvent, MemberEventType, MemberListener } from "./events.js";
export type { GossipInit, GossipStats, JoinOptions, LeaveOptions } from "./gossip.js";
export { Gossip } from "./gossip.js";
export type { GossipLogger } from "./logger.js";
export { silentLogger } from "./logger.js";
export type { Liveness, Member, MemberPhase, MemberStatus } from "./member.js";
export { isAliveStatus, MAX_ADDRESS_BYTES, MAX_ID_BYTES } from "./member.js";
export type { GossipMessage, MemberState, UpdateMessage } from "./messages.js";
export type { RandomSource } from "./random.js";
export type { Transport, TransportHandler } from "./transport.js";
