import type { MembershipEvent, MembershipView } from "../membership-view.js";

/**
 * Liveness for an in-process cluster, as one shared truth: every node's view agrees (gossip
 * that has converged). `setAlive` notifies every view's subscribers synchronously.
 */
export class InMemoryMembership {
  private readonly down = new Set<string>();
  private readonly listeners = new Set<(event: MembershipEvent) => void>();

  /** Whether `nodeId` is reported alive. */
  isAlive(nodeId: string): boolean {
    return !this.down.has(nodeId);
  }

  /** Marks a node up or down and notifies subscribers if that changed. */
  setAlive(nodeId: string, alive: boolean): void {
    if (alive === !this.down.has(nodeId)) return;
    if (alive) this.down.delete(nodeId);
    else this.down.add(nodeId);
    const event: MembershipEvent = { type: alive ? "up" : "down", nodeId };
    for (const listener of [...this.listeners]) listener(event);
  }

  /** The view of node `localId`. */
  view(localId: string): MembershipView {
    return {
      localId,
      isAlive: (id) => id === localId || this.isAlive(id),
      subscribe: (listener) => {
        // A wrapper per subscription: the same function subscribed twice is two subscriptions.
        const entry = (event: MembershipEvent) => listener(event);
        this.listeners.add(entry);
        return () => {
          this.listeners.delete(entry);
        };
      },
    };
  }
}
