/**
 * Lifeguard's local health awareness: a score in [0, max - 1] that rises when this node has
 * evidence that it, not its peers, is slow (probes that failed without the nacks that indirect
 * helpers should have sent, having to refute a suspicion about itself) and falls with every
 * successful probe. Probe interval and timeout are multiplied by score + 1, so a node that is
 * starved of CPU or network probes less often and waits longer before it suspects anyone, and
 * a paused or overloaded node stops turning its own slowness into false suspicions.
 */
export class Awareness {
  private value = 0;

  constructor(private readonly max: number) {}

  /** The current score, 0 when healthy. */
  get score(): number {
    return this.value;
  }

  applyDelta(delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta));
  }

  /** `ms` scaled by the health multiplier (score + 1). */
  scale(ms: number): number {
    return ms * (this.value + 1);
  }
}
