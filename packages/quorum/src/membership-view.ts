/** A change in a node's liveness, as the membership layer (gossip) sees it. */
export interface MembershipEvent {
  readonly type: "up" | "down";
  readonly nodeId: string;
}

/**
 * What the coordinator needs from membership (gossip): who this node is, who is alive now, and
 * notice of changes. `isAlive` is called on every request and must be cheap and synchronous;
 * listeners must not block (HintedHandoff starts its delivery asynchronously).
 *
 * "Down" here means "do not send to it": the coordinator replaces a down replica by a substitute
 * (sloppy quorum) and does not count on it for reads. A node that is unreachable but still
 * reported alive is discovered per request, as a failed call.
 */
export interface MembershipView {
  /** This node's id: the actor in the clocks of the writes it coordinates. */
  readonly localId: string;
  /** Whether `nodeId` is believed alive. The local node is always treated as alive. */
  isAlive(nodeId: string): boolean;
  /** Calls `listener` on every up/down change; returns a function that unsubscribes. */
  subscribe(listener: (event: MembershipEvent) => void): () => void;
}
