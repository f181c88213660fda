/**
 * Cuts background work into slices: the caller does a bounded amount of work between calls to
 * maybeYield(), which returns to the event loop (setImmediate) once `sliceMs` of continuous work
 * has passed. Foreground requests therefore wait at most about one slice, which keeps put/get
 * latency low during flushes and compactions with any FileSystem, including the in-memory one.
 */

import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";

/**
 * When the event loop last got to run macrotasks (a background slice resumed, or the write path
 * deliberately yielded). A tight `await db.put()` loop resolves through microtasks only and
 * would otherwise starve background work until writes stop; the database compares this clock
 * with now and, when background work is pending and has not run for a while, resolves the next
 * operation through setImmediate so the background gets its slice.
 */
export const loopClock = { lastTurnAt: 0 };

export class Slicer {
  private start = performance.now();
  /** Number of times work yielded (stats/tests). */
  yields = 0;

  constructor(private readonly sliceMs: number) {}

  /** True when the current slice is used up. Cheap enough to call per entry. */
  due(): boolean {
    return performance.now() - this.start >= this.sliceMs;
  }

  async yield(): Promise<void> {
    this.yields++;
    await yieldToLoop();
    this.start = performance.now();
    loopClock.lastTurnAt = this.start;
  }

  async maybeYield(): Promise<void> {
    if (this.due()) await this.yield();
  }
}
