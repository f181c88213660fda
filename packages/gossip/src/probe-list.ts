import { type RandomSource, randomInt, shuffle } from "./random.js";

/**
 * The order in which members are probed: round-robin over a shuffled list, reshuffled after
 * each full round (as memberlist does). Compared with picking a random member per probe, every
 * member is probed by every other member once per round, so the time until someone probes a
 * failed member is bounded, not just small on average.
 */
export class ProbeList {
  private order: string[] = [];
  private index = 0;

  constructor(private readonly random: RandomSource) {}

  /**
   * The next member to probe for which `eligible` holds, or undefined when there is none. At
   * the end of a round the list is rebuilt from `candidates()` and shuffled.
   */
  next(candidates: () => string[], eligible: (id: string) => boolean): string | undefined {
    for (let round = 0; round < 2; round++) {
      while (this.index < this.order.length) {
        const id = this.order[this.index++]!;
        if (eligible(id)) return id;
      }
      this.order = shuffle(candidates(), this.random);
      this.index = 0;
      if (this.order.length === 0) return undefined;
    }
    return undefined;
  }

  /** A new member: placed at a random spot in what is left of this round, so it is probed soon. */
  add(id: string): void {
    const at = this.index + randomInt(this.random, this.order.length - this.index + 1);
    this.order.splice(at, 0, id);
  }
}
