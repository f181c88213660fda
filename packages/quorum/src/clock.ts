/**
 * Time, injected. The coordinator reads `nowMs()` for version timestamps (lww, tombstone GC) and
 * schedules its deadlines and the handoff period with `schedule()`, so a simulated cluster can
 * run on a manual clock (`ManualClock` in `@distkv/quorum/testing`) and never wait for real time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; an integer (fractions are floored by callers). */
  nowMs(): number;
  /**
   * Runs `fn` once after `delayMs` (>= 0). Returns a function that cancels it (a no-op once it
   * ran). Must not keep the process alive on its own (`unref` in Node).
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
