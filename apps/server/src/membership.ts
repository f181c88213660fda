import type { Gossip, Member, MemberEvent } from "@distkv/gossip";
import type { MembershipEvent, MembershipView } from "@distkv/quorum";
import { HashRing } from "@distkv/ring";

/**
 * What a node gossips about itself besides id and address: enough to place it on the ring.
 * Its tokens are derived from its id and virtual node count (`vnodeTokens`), so the count is
 * all the ring needs; the version byte leaves room for explicit tokens later.
 * Wire format: [1, vnodes as uint32 big-endian].
 */
export interface NodeMetadata {
  readonly virtualNodes: number;
}

const METADATA_VERSION = 1;

export function encodeNodeMetadata(m: NodeMetadata): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = METADATA_VERSION;
  new DataView(out.buffer).setUint32(1, m.virtualNodes);
  return out;
}

/** The metadata of a member, or undefined when it is not a DistKV node's (or a newer format). */
export function decodeNodeMetadata(bytes: Uint8Array): NodeMetadata | undefined {
  if (bytes.length !== 5 || bytes[0] !== METADATA_VERSION) return undefined;
  const virtualNodes = new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1);
  return virtualNodes >= 1 ? { virtualNodes } : undefined;
}

/** How long a node whose calls fail with UNAVAILABLE is routed around before gossip's word counts again. */
const UNREACHABLE_MS = 1000;

type RingListener = () => void;

/**
 * The cluster as gossip sees it, in the shapes the rest of the node needs:
 *
 * - the MembershipView of @distkv/quorum: a member is alive unless gossip declared it dead or
 *   it left. A `suspect` member still counts as alive (suspicion is not death: it may refute),
 *   but a member whose calls just failed with UNAVAILABLE is routed around for a second.
 * - two rings. The current ring (reads, coordinators, replicas) holds the members in phase
 *   normal or leaving, dead ones included: failure is not removal (Dynamo), only a
 *   decommission removes a node. The future ring holds the members in phase joining or normal.
 *   While they differ, `pendingReplicas(key)` names the nodes that will replicate a key once
 *   the hand-over completes; writes go to them as well.
 * - last-seen times, fed by every message from a member.
 */
export class ClusterMembership implements MembershipView {
  readonly localId: string;
  private currentRing: HashRing;
  private futureRing: HashRing | undefined;
  private signature = "";
  private ringChangedAt: number;
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private readonly ringListeners = new Set<RingListener>();
  private readonly lastSeen = new Map<string, number>();
  private readonly unreachableUntil = new Map<string, number>();
  /** When this node first saw a member in its current phase (local clock). */
  private readonly phaseSeenAt = new Map<string, { phase: string; atMs: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly gossip: Gossip,
    private readonly replicas: number,
    private readonly log: (message: string, fields: Record<string, unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.localId = gossip.id;
    this.currentRing = new HashRing();
    this.ringChangedAt = now();
    this.unsubscribe = gossip.subscribe((e) => this.onEvent(e));
    this.rebuild();
  }

  // ---- MembershipView

  isAlive(nodeId: string): boolean {
    if (nodeId === this.localId) return true;
    const m = this.gossip.member(nodeId);
    if (m === undefined || m.status === "dead" || m.status === "left") return false;
    const until = this.unreachableUntil.get(nodeId);
    if (until !== undefined) {
      if (this.now() < until) return false;
      this.unreachableUntil.delete(nodeId);
    }
    return true;
  }

  subscribe(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- rings

  /** The ring that places replicas now. */
  ring(): HashRing {
    return this.currentRing;
  }

  /** The ring once every joining member is in and every leaving one out (the current one if equal). */
  targetRing(): HashRing {
    return this.futureRing ?? this.currentRing;
  }

  /** Whether a hand-over is in progress (some member is joining or leaving). */
  get moving(): boolean {
    return this.futureRing !== undefined;
  }

  /** How long both rings have been as they are now (local clock), in ms. */
  get ringStableForMs(): number {
    return this.now() - this.ringChangedAt;
  }

  /** Nodes that will replicate `key` after the hand-over and do not now. */
  pendingReplicas(key: Uint8Array): readonly string[] {
    const future = this.futureRing;
    if (future === undefined) return NONE;
    const now = this.currentRing.preferenceList(key, this.replicas);
    const next = future.preferenceList(key, this.replicas);
    const out = next.filter((id) => !now.includes(id));
    return out.length === 0 ? NONE : out;
  }

  /** Called after either ring changed. */
  onRingChange(listener: RingListener): () => void {
    this.ringListeners.add(listener);
    return () => this.ringListeners.delete(listener);
  }

  // ---- members

  member(nodeId: string): Member | undefined {
    return this.gossip.member(nodeId);
  }

  members(): Member[] {
    return this.gossip.members();
  }

  /** The address of a member, or undefined when gossip does not know it. */
  addressOf(nodeId: string): string | undefined {
    return this.gossip.member(nodeId)?.address;
  }

  /** Records that `nodeId` was heard from just now (any message or successful call). */
  heard(nodeId: string): void {
    this.lastSeen.set(nodeId, this.now());
    this.unreachableUntil.delete(nodeId);
  }

  /** A call to `nodeId` failed as unreachable: route around it for a moment. */
  unreachable(nodeId: string): void {
    if (nodeId === this.localId) return;
    this.unreachableUntil.set(nodeId, this.now() + UNREACHABLE_MS);
  }

  /** When this node last heard from `nodeId` (ms since the epoch), 0 if never. */
  lastSeenMs(nodeId: string): number {
    return nodeId === this.localId ? this.now() : (this.lastSeen.get(nodeId) ?? 0);
  }

  /** How long this node has seen `nodeId` in `phase` (0 if it does not see it in that phase). */
  inPhaseForMs(nodeId: string, phase: string): number {
    const seen = this.phaseSeenAt.get(nodeId);
    const m = this.gossip.member(nodeId);
    if (seen === undefined || m === undefined || m.phase !== phase || seen.phase !== phase) {
      return 0;
    }
    return this.now() - seen.atMs;
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
    this.ringListeners.clear();
  }

  private onEvent(e: MemberEvent): void {
    const { member, previous } = e;
    if (previous === undefined || previous.phase !== member.phase) {
      this.phaseSeenAt.set(member.id, { phase: member.phase, atMs: this.now() });
    }
    if (member.id !== this.localId) {
      const wasAlive = previous !== undefined && isLive(previous);
      const alive = isLive(member);
      if (alive && !wasAlive) this.emit({ type: "up", nodeId: member.id });
      if (!alive && wasAlive) this.emit({ type: "down", nodeId: member.id });
      if (e.type !== "update" || previous?.status !== member.status) {
        this.log(`node ${e.type}`, {
          peer: member.id,
          address: member.address,
          status: member.status,
          phase: member.phase,
        });
      }
    }
    this.rebuild();
  }

  private emit(event: MembershipEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** Rebuilds the rings when the set of placed nodes changed (cheap no-op otherwise). */
  private rebuild(): void {
    const current: [string, number][] = [];
    const future: [string, number][] = [];
    for (const m of this.gossip.members()) {
      if (m.status === "left") continue;
      const meta = decodeNodeMetadata(m.metadata);
      if (meta === undefined) continue;
      if (m.phase === "normal" || m.phase === "leaving") current.push([m.id, meta.virtualNodes]);
      if (m.phase === "normal" || m.phase === "joining") future.push([m.id, meta.virtualNodes]);
    }
    const key = (list: [string, number][]) => list.map(([id, v]) => `${id}:${v}`).join(",");
    const currentKey = key(current);
    const futureKey = key(future);
    const signature = `${currentKey}|${futureKey}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.ringChangedAt = this.now();
    this.currentRing = ringOf(current);
    this.futureRing = futureKey === currentKey ? undefined : ringOf(future);
    for (const l of this.ringListeners) l();
  }
}

const NONE: readonly string[] = Object.freeze([]);

function isLive(m: Member): boolean {
  return m.status !== "dead" && m.status !== "left";
}

function ringOf(nodes: readonly [string, number][]): HashRing {
  const ring = new HashRing();
  for (const [id, virtualNodes] of nodes) ring.addNode(id, { virtualNodes });
  return ring;
}
