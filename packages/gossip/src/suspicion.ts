import type { Clock } from "./clock.js";
import { type SuspicionBounds, suspicionTimeoutMs } from "./config.js";
import type { Timers } from "./timers.js";

/**
 * One member's suspicion, with Lifeguard's dynamic timeout: it starts at `bounds.maxMs` and
 * falls towards `bounds.minMs` as independent members confirm it (see `suspicionTimeoutMs`).
 * A suspicion only this node (or one other) holds, perhaps because this node is the slow one,
 * takes the longest to expire and gives the member the most time to refute; one that many
 * members confirm expires quickly, because it is probably true.
 */
export class Suspicion {
  private readonly confirmers = new Set<string>();
  private readonly startMs: number;
  private cancelTimer: () => void = () => {};
  private done = false;

  /**
   * @param from the member whose suspicion started it; not counted as a confirmation.
   * @param onTimeout called once when the timeout passes (unless cancelled).
   */
  constructor(
    from: string,
    private readonly bounds: SuspicionBounds,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onTimeout: () => void,
  ) {
    this.confirmers.add(from);
    this.startMs = clock.nowMs();
    this.arm(suspicionTimeoutMs(bounds, 0));
  }

  /** Independent confirmations so far (the starter excluded). */
  get confirmations(): number {
    return this.confirmers.size - 1;
  }

  /** The current timeout, from the start of the suspicion. */
  get timeoutMs(): number {
    return suspicionTimeoutMs(this.bounds, this.confirmations);
  }

  /**
   * Counts `from` as a confirmation; true when it is a new one (then the caller re-gossips it:
   * other members shorten their timers too). Once k confirmations are in, more change nothing.
   */
  confirm(from: string): boolean {
    if (this.done || this.confirmations >= this.bounds.confirmations) return false;
    if (this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    const elapsed = this.clock.nowMs() - this.startMs;
    this.cancelTimer();
    this.arm(Math.max(0, this.timeoutMs - elapsed));
    return true;
  }

  cancel(): void {
    this.done = true;
    this.cancelTimer();
  }

  private arm(delayMs: number): void {
    this.cancelTimer = this.timers.after(delayMs, () => {
      if (this.done) return;
      this.done = true;
      this.onTimeout();
    });
  }
}
