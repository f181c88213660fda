import type { SeededRandom } from "@distkv/gossip/testing";

export { SeededRandom } from "@distkv/gossip/testing";

/** A uniformly chosen element of a non-empty array. */
export function pick<T>(random: SeededRandom, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("pick from an empty array");
  return items[random.int(items.length)]!;
}

/** An integer in [min, max]. */
export function between(random: SeededRandom, min: number, max: number): number {
  return min + random.int(max - min + 1);
}
