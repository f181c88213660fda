import type { Liveness, MemberPhase } from "./member.js";

/**
 * The protocol's messages. A datagram carries one or more of them (a ping with piggybacked
 * updates, or a gossip round's updates alone); `codec.ts` defines the bytes.
 */

/** Direct probe. Only the member named `targetId` answers, so a reused address cannot ack for another node. */
export interface PingMessage {
  readonly type: "ping";
  readonly seq: number;
  readonly targetId: string;
  readonly sourceId: string;
  readonly sourceAddress: string;
}

/**
 * Asks the receiver to ping `targetId` at `targetAddress` and forward the ack (with `seq`) to
 * `sourceAddress`, or a nack if none came within `timeoutMs` (Lifeguard: the nack tells the
 * requester that its own link works, so the failed probe says nothing bad about its own health).
 */
export interface IndirectPingMessage {
  readonly type: "indirect-ping";
  readonly seq: number;
  readonly targetId: string;
  readonly targetAddress: string;
  readonly sourceId: string;
  readonly sourceAddress: string;
  readonly timeoutMs: number;
}

export interface AckMessage {
  readonly type: "ack";
  readonly seq: number;
}

export interface NackMessage {
  readonly type: "nack";
  readonly seq: number;
}

/** A member is alive at `incarnation`, with this address, phase and metadata. */
export interface AliveMessage {
  readonly type: "alive";
  readonly id: string;
  readonly address: string;
  readonly incarnation: number;
  readonly phase: MemberPhase;
  readonly metadata: Uint8Array;
}

/** `from` suspects member `id` at `incarnation`. Distinct `from`s are Lifeguard's confirmations. */
export interface SuspectMessage {
  readonly type: "suspect";
  readonly id: string;
  readonly incarnation: number;
  readonly from: string;
}

/** `from` declares member `id` dead at `incarnation` (its suspicion timed out). */
export interface DeadMessage {
  readonly type: "dead";
  readonly id: string;
  readonly incarnation: number;
  readonly from: string;
}

/** Member `id` left gracefully at `incarnation`; only the member itself sends this. */
export interface LeftMessage {
  readonly type: "left";
  readonly id: string;
  readonly incarnation: number;
}

/** One member's full state, as push-pull exchanges it. */
export interface MemberState {
  readonly id: string;
  readonly address: string;
  readonly liveness: Liveness;
  readonly phase: MemberPhase;
  readonly incarnation: number;
  readonly metadata: Uint8Array;
}

/**
 * The sender's whole member list (itself included). `reply` marks the answer to a request;
 * `join` marks the first exchange of a joining node. `nonce` pairs a reply with its request when
 * push-pull runs over plain datagrams (a transport without `request`); the reply then goes to
 * the address `sourceId` has in the list.
 */
export interface PushPullMessage {
  readonly type: "push-pull";
  readonly sourceId: string;
  readonly nonce: number;
  readonly reply: boolean;
  readonly join: boolean;
  readonly members: readonly MemberState[];
}

export type GossipMessage =
  | PingMessage
  | IndirectPingMessage
  | AckMessage
  | NackMessage
  | AliveMessage
  | SuspectMessage
  | DeadMessage
  | LeftMessage
  | PushPullMessage;

/** The membership updates that are piggybacked and retransmitted. */
export type UpdateMessage = AliveMessage | SuspectMessage | DeadMessage | LeftMessage;
