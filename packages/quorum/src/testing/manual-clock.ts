import type { Clock } from "../clock.js";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Resolves after every microtask queued so far (and those they queue) has run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Clock whose time moves only when told to, for deterministic tests and simulation: timers fire
 * in (time, creation) order, each followed by a flush of the microtasks it caused. Everything
 * that happens without a timer (zero-delay messages of the in-memory network, promise chains)
 * runs in microtask order, so one seed gives one history.
 */
export class ManualClock implements Clock {
  private now: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  schedule(fn: () => void, delayMs: number): () => void {
    const timer: Timer = { at: this.now + Math.max(0, delayMs), seq: this.seq++, fn };
    // Keep the list sorted: timers are few (deadlines of requests in flight, link delays).
    let i = this.timers.length;
    while (i > 0 && this.compare(this.timers[i - 1]!, timer) > 0) i--;
    this.timers.splice(i, 0, timer);
    return () => {
      const at = this.timers.indexOf(timer);
      if (at >= 0) this.timers.splice(at, 1);
    };
  }

  /** Timers waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the next timer fires, or undefined. */
  get nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /** Fires the earliest timer (moving time to it); false when there is none. */
  async step(): Promise<boolean> {
    const timer = this.timers.shift();
    if (timer === undefined) return false;
    if (timer.at > this.now) this.now = timer.at;
    timer.fn();
    await flushMicrotasks();
    return true;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    await flushMicrotasks();
    while (this.timers.length > 0 && this.timers[0]!.at <= until) await this.step();
    this.now = until;
    await flushMicrotasks();
  }

  /**
   * Fires timers, earliest first, until `promise` settles; returns its outcome. Throws if the
   * promise is still pending with no timer left (it would never settle) or after `maxSteps`.
   */
  async run<T>(promise: Promise<T>, maxSteps = 1_000_000): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await flushMicrotasks();
    for (let steps = 0; !settled; steps++) {
      if (steps >= maxSteps)
        throw new Error(`ManualClock.run: still pending after ${maxSteps} timers`);
      if (!(await this.step())) {
        throw new Error("ManualClock.run: the promise is pending and no timer is left");
      }
    }
    return promise;
  }

  private compare(a: Timer, b: Timer): number {
    return a.at - b.at || a.seq - b.seq;
  }
}
