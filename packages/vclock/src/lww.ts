import type { Sibling, SiblingSet } from "./sibling-set.js";

/**
 * The last-write-wins winner: the sibling with the greatest `timestampMs`; ties go to the greater
 * dot (actor, then counter), so every node picks the same winner. May be a tombstone (the key then
 * reads as deleted). Undefined for a set without siblings. Wall clocks skew: a later write from a
 * node whose clock is behind can lose to an earlier one. That is the lww policy's documented cost.
 */
export function lww<V>(set: SiblingSet<V>): Sibling<V> | undefined {
  const ss = set.siblings;
  let best = ss[0];
  for (let i = 1; i < ss.length; i++) {
    const s = ss[i]!;
    // Siblings are sorted by dot, so on a timestamp tie the later one has the greater dot.
    if (s.timestampMs >= best!.timestampMs) best = s;
  }
  return best;
}

/**
 * The set reduced to its lww winner, keeping the clock: the losers' dots stay covered, so syncing
 * this into a replica that still holds them drops them there too. Returns `set` when it has at
 * most one sibling.
 */
export function resolveLww<V>(set: SiblingSet<V>): SiblingSet<V> {
  if (set.siblings.length <= 1) return set;
  return { clock: set.clock, siblings: [lww(set)!] };
}
