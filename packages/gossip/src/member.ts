import { describe } from "./describe.js";
import { InvalidGossipArgumentError } from "./errors.js";

/**
 * What a live member says it is doing: `joining` (taking its ring tokens, receiving data),
 * `normal`, `leaving` (handing its data over before it goes). Only the member itself changes
 * its phase, and every change bumps its incarnation.
 */
export type MemberPhase = "joining" | "normal" | "leaving";

/**
 * A member's status as this node sees it: its phase while it is alive and unsuspected, else
 * `suspect` (a probe failed; it may still refute), `dead` (the suspicion timed out) or `left`
 * (it announced a graceful leave).
 */
export type MemberStatus = MemberPhase | "suspect" | "dead" | "left";

/** The failure detector's view, which is what the protocol orders and gossips. */
export type Liveness = "alive" | "suspect" | "dead" | "left";

/**
 * A snapshot of one member. Snapshots are immutable values (a new one is made on every change);
 * `metadata` is shared with gossip's own copy: do not modify it.
 *
 * Identity: `id` names the member for its whole life, across restarts and address changes (the
 * ring places nodes by id). `address` is where it can be reached now. `incarnation` orders what
 * the member says about itself: a claim with a higher incarnation always wins, so a restarted
 * node (same id, any address) is accepted as soon as its incarnation is higher than what the
 * cluster remembers; see the package README ("Identity and incarnation").
 */
export interface Member {
  readonly id: string;
  readonly address: string;
  readonly status: MemberStatus;
  /** The phase the member last announced; tells what a suspect or dead member was doing. */
  readonly phase: MemberPhase;
  readonly incarnation: number;
  /** Opaque application metadata (the server puts its virtual node count there). */
  readonly metadata: Uint8Array;
}

/** Longest node id, in UTF-8 bytes. Part of the wire format's limits: do not lower. */
export const MAX_ID_BYTES = 256;
/** Longest address, in UTF-8 bytes. Part of the wire format's limits: do not lower. */
export const MAX_ADDRESS_BYTES = 256;

const PHASES: ReadonlySet<string> = new Set(["joining", "normal", "leaving"]);

/** True for the statuses of a live, unsuspected member: joining, normal and leaving. */
export function isAliveStatus(status: MemberStatus): status is MemberPhase {
  return PHASES.has(status);
}

export function isMemberPhase(value: unknown): value is MemberPhase {
  return typeof value === "string" && PHASES.has(value);
}

/** The status shown for a liveness and phase. */
export function statusOf(liveness: Liveness, phase: MemberPhase): MemberStatus {
  return liveness === "alive" ? phase : liveness;
}

/**
 * Same incarnation: the more final state wins (a suspicion overrides the alive claim it doubts,
 * a death overrides both, and a leave, which only the member itself announces, overrides a
 * death). A higher incarnation always wins. So every node keeps the maximum of the claims it
 * heard under one total order, whatever order they arrived in. Wire-visible: do not reorder.
 */
const RANK: Readonly<Record<Liveness, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

export interface Claim {
  readonly liveness: Liveness;
  readonly incarnation: number;
}

/** Whether claim `a` is newer than `b` (strictly), in the order above. */
export function supersedes(a: Claim, b: Claim): boolean {
  return (
    a.incarnation > b.incarnation ||
    (a.incarnation === b.incarnation && RANK[a.liveness] > RANK[b.liveness])
  );
}

const encoder = new TextEncoder();

function utf8Length(s: string): number {
  // Exact for well-formed strings, and cheap: most ids are ASCII.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? s.length : encoder.encode(s).length;
}

export function validateNodeId(id: unknown, what = "id"): string {
  if (typeof id !== "string" || id.length === 0 || utf8Length(id) > MAX_ID_BYTES) {
    throw new InvalidGossipArgumentError(
      `${what} must be a non-empty string of at most ${MAX_ID_BYTES} UTF-8 bytes, got ${describe(id)}`,
    );
  }
  return id;
}

export function validateAddress(address: unknown, what = "address"): string {
  if (
    typeof address !== "string" ||
    address.length === 0 ||
    utf8Length(address) > MAX_ADDRESS_BYTES
  ) {
    throw new InvalidGossipArgumentError(
      `${what} must be a non-empty string of at most ${MAX_ADDRESS_BYTES} UTF-8 bytes, got ${describe(address)}`,
    );
  }
  return address;
}

export function validateIncarnation(value: unknown, what = "incarnation"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidGossipArgumentError(
      `${what} must be a non-negative safe integer, got ${describe(value)}`,
    );
  }
  return value;
}

export function validateMetadata(value: unknown, maxBytes: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > maxBytes) {
    throw new InvalidGossipArgumentError(
      `metadata must be a Uint8Array of at most ${maxBytes} bytes (maxMetadataBytes), got ${describe(value)}`,
    );
  }
  return value;
}

export function validatePhase(value: unknown): MemberPhase {
  if (!isMemberPhase(value)) {
    throw new InvalidGossipArgumentError(
      `phase must be "joining", "normal" or "leaving", got ${describe(value)}`,
    );
  }
  return value;
}
