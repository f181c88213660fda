import { type Gossip, isAliveStatus, type MemberStatus } from "@distkv/gossip";
import type { MembershipEvent, MembershipView } from "@distkv/quorum";

/**
 * Whether the coordinator should count on a member with this gossip status. A suspect is still
 * alive (it may refute, and routing around every suspicion would scatter hints); dead, left and
 * unknown members are down.
 */
export function isUsable(status: MemberStatus | undefined): boolean {
  return status !== undefined && (isAliveStatus(status) || status === "suspect");
}

/**
 * @distkv/quorum's MembershipView over one node's @distkv/gossip instance: alive means joining,
 * normal, leaving or suspect; "up" events when a member joins (or rejoins after being dead),
 * "down" events when it is declared dead or leaves.
 */
export function gossipMembership(gossip: Gossip): MembershipView {
  const localId = gossip.id;
  return {
    localId,
    isAlive: (id) => id === localId || isUsable(gossip.member(id)?.status),
    subscribe: (listener: (event: MembershipEvent) => void) =>
      gossip.subscribe((e) => {
        if (e.member.id === localId) return;
        const was = isUsable(e.previous?.status);
        const is = isUsable(e.member.status);
        if (was === is) return;
        listener({ type: is ? "up" : "down", nodeId: e.member.id });
      }),
  };
}
