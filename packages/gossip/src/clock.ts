/**
 * Time, injected. The same shape as @distkv/quorum's Clock, so the server can hand one object to
 * both. Gossip reads `nowMs()` for the initial incarnation and for how long members have been
 * dead, and runs every protocol timer through `schedule()`, so a simulated cluster
 * (`@distkv/gossip/testing`) runs on simulated time and never waits for real time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /**
   * Runs `fn` once after `delayMs` (>= 0). Returns a function that cancels it (a no-op once it
   * ran). Must not keep the process alive on its own (`unref` in Node). A timer with delay 0
   * must run after I/O that is already waiting (as Node's setTimeout does): gossip relies on it
   * to read acks that arrived while the process was paused before it concludes a probe failed.
   */
  schedule(fn: () => void, delayMs: number): () => void;
}

/** The real clock: `Date.now()` and unref'd `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  schedule(fn: () => void, delayMs: number): () => void {
    const t = setTimeout(fn, delayMs);
    t.unref?.();
    return () => clearTimeout(t);
  },
});
