/**
 * Back-pressure for one channel: at most `maxInFlight` calls and `maxInFlightBytes` of request
 * payload in flight at once. A caller beyond either limit waits in a FIFO queue of at most
 * `maxWaiting` callers (its deadline and AbortSignal still apply while it waits); a caller that
 * finds that queue full is refused at once. So memory is bounded by the limits, never by the
 * callers' rate, and a slow peer slows its callers down instead of piling up frames.
 *
 * A single call larger than `maxInFlightBytes` is admitted when nothing else is in flight, so
 * it can never wait forever. The queue is strictly FIFO: a large call at its head holds back
 * smaller ones behind it, which keeps large calls from starving.
 */
export interface AdmissionLimits {
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  readonly maxWaiting: number;
}

export interface AdmissionWaiter {
  readonly bytes: number;
  /** Called once, when the waiter has been admitted (its bytes are already counted). */
  readonly grant: () => void;
}

export class Admission {
  private readonly limits: AdmissionLimits;
  private readonly waiters = new Set<AdmissionWaiter>();
  private count = 0;
  private bytes = 0;

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  get inFlight(): number {
    return this.count;
  }
  get inFlightBytes(): number {
    return this.bytes;
  }
  get waiting(): number {
    return this.waiters.size;
  }

  private fits(bytes: number): boolean {
    if (this.count >= this.limits.maxInFlight) return false;
    return this.count === 0 || this.bytes + bytes <= this.limits.maxInFlightBytes;
  }

  /** Admits at once if the limits allow and nobody is queued ahead; counts the call. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.size > 0 || !this.fits(bytes)) return false;
    this.count++;
    this.bytes += bytes;
    return true;
  }

  /** Queues a waiter; false when `maxWaiting` callers already wait. */
  enqueue(waiter: AdmissionWaiter): boolean {
    if (this.waiters.size >= this.limits.maxWaiting) return false;
    this.waiters.add(waiter);
    // The limits may allow it already (e.g. a slot was freed while the caller decided to wait).
    this.pump();
    return true;
  }

  /** Removes a waiter that gave up; false if it was already admitted (or never queued). */
  remove(waiter: AdmissionWaiter): boolean {
    const removed = this.waiters.delete(waiter);
    // The head may have been the one blocking the others.
    if (removed) this.pump();
    return removed;
  }

  /** Gives back `count` calls (default 1) holding `bytes` in total. */
  release(bytes: number, count = 1): void {
    this.count -= count;
    this.bytes -= bytes;
    if (this.count < 0 || this.bytes < 0) {
      throw new Error(`admission accounting broke: count=${this.count} bytes=${this.bytes}`);
    }
    this.pump();
  }

  /**
   * Changes the bytes an admitted call holds (e.g. the mux server swaps a call's request
   * bytes for its reply's). Growing never blocks and may pass the limit; admissions wait until
   * the total is back under it.
   */
  adjust(deltaBytes: number): void {
    this.bytes += deltaBytes;
    if (this.bytes < 0) throw new Error(`admission accounting broke: bytes=${this.bytes}`);
    if (deltaBytes < 0) this.pump();
  }

  /** Removes every waiter without granting it; returns them so the caller can fail them. */
  drainWaiters(): AdmissionWaiter[] {
    const all = [...this.waiters];
    this.waiters.clear();
    return all;
  }

  private pump(): void {
    for (const w of this.waiters) {
      if (!this.fits(w.bytes)) return;
      this.waiters.delete(w);
      this.count++;
      this.bytes += w.bytes;
      w.grant();
    }
  }
}
