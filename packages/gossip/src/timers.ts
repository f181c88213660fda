import type { Clock } from "./clock.js";

interface Entry {
  cancel: () => void;
}

/**
 * Gossip's timers: all of them can be cancelled at once by `stop()`, and a timer that fires late
 * (the process was paused, or the event loop blocked) yields one I/O turn before it runs.
 *
 * The second rule is what keeps a paused node from condemning its peers: after a pause (SIGSTOP,
 * a long GC, a blocked loop) Node runs the expired timers before it reads the sockets, so a probe
 * timeout would fire before the ack that arrived during the pause is read, and a suspicion
 * timeout before the refutation sitting in the buffer. A late timer instead reschedules itself
 * with delay 0, which runs after the pending I/O has been delivered; only then does it conclude.
 */
export class Timers {
  private readonly active = new Set<Entry>();

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` once after `delayMs`; returns a function that cancels it. */
  after(delayMs: number, fn: () => void): () => void {
    const due = this.clock.nowMs() + delayMs;
    const entry: Entry = { cancel: () => {} };
    const run = (): void => {
      this.active.delete(entry);
      fn();
    };
    entry.cancel = this.clock.schedule(() => {
      if (this.clock.nowMs() > due) {
        entry.cancel = this.clock.schedule(run, 0);
      } else {
        run();
      }
    }, delayMs);
    this.active.add(entry);
    return () => {
      if (this.active.delete(entry)) entry.cancel();
    };
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (const entry of this.active) entry.cancel();
    this.active.clear();
  }

  get size(): number {
    return this.active.size;
  }
}
