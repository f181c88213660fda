import type { MembershipEvent, MembershipView } from "@distkv/quorum";

export type MemberState = "alive" | "down";

export interface MemberInfo {
  readonly id: string;
  readonly address: string;
  readonly virtualNodes: number;
  state: MemberState;
  /** Last time this node heard from the member (ms since epoch); 0 if never. */
  lastSeenMs: number;
}

export interface MemberEndpoint {
  readonly id: string;
  readonly address: string;
  readonly virtualNodes: number;
}

/**
 * Membership until @distkv/gossip lands: members come from the seed nodes and from peers
 * that contact this node (hello exchanges), and a member counts as down when its peer stream
 * fails or its pings time out. It implements the MembershipView that the coordinator uses, so
 * gossip can replace it without touching the coordinator.
 */
export class StaticMembership implements MembershipView {
  private readonly members = new Map<string, MemberInfo>();
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private readonly joinListeners = new Set<(member: MemberInfo) => void>();

  constructor(
    local: MemberEndpoint,
    private readonly now: () => number = Date.now,
  ) {
    this.localId = local.id;
    this.members.set(local.id, { ...local, state: "alive", lastSeenMs: now() });
  }

  readonly localId: string;

  isAlive(nodeId: string): boolean {
    return nodeId === this.localId || this.members.get(nodeId)?.state === "alive";
  }

  subscribe(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when a node is added to the cluster (the ring must include it). */
  onJoin(listener: (member: MemberInfo) => void): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  /** The address this node advertises, once known (it listens on port 0 in tests). */
  setLocalAddress(address: string): void {
    const self = this.members.get(this.localId)!;
    this.members.set(this.localId, { ...self, address });
  }

  get(nodeId: string): MemberInfo | undefined {
    return this.members.get(nodeId);
  }

  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  endpoints(): MemberEndpoint[] {
    return this.list().map(({ id, address, virtualNodes }) => ({ id, address, virtualNodes }));
  }

  /**
   * Learns of a node. A new node starts as down until it answers (unless `heardFrom`, when
   * the information came from the node itself). Returns true when the node was new.
   */
  learn(endpoint: MemberEndpoint, heardFrom: boolean): boolean {
    const known = this.members.get(endpoint.id);
    if (known !== undefined) {
      if (known.address !== endpoint.address && heardFrom) {
        // The node restarted elsewhere: trust what it says about itself.
        this.members.set(endpoint.id, { ...known, address: endpoint.address });
      }
      if (heardFrom) this.markAlive(endpoint.id);
      return false;
    }
    const member: MemberInfo = {
      ...endpoint,
      state: heardFrom ? "alive" : "down",
      lastSeenMs: heardFrom ? this.now() : 0,
    };
    this.members.set(endpoint.id, member);
    for (const l of this.joinListeners) l(member);
    if (heardFrom) this.emit({ type: "up", nodeId: endpoint.id });
    return true;
  }

  markAlive(nodeId: string): void {
    const m = this.members.get(nodeId);
    if (m === undefined) return;
    m.lastSeenMs = this.now();
    if (m.state !== "alive") {
      m.state = "alive";
      this.emit({ type: "up", nodeId });
    }
  }

  markDown(nodeId: string): void {
    const m = this.members.get(nodeId);
    if (m === undefined || nodeId === this.localId || m.state === "down") return;
    m.state = "down";
    this.emit({ type: "down", nodeId });
  }

  private emit(event: MembershipEvent): void {
    for (const l of this.listeners) l(event);
  }
}
