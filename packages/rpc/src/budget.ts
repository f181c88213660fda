/**
 * Byte budgets for the one-port server: how many bytes of requests (and of responses not yet
 * flushed) one connection, or one traffic class as a whole, may hold at once. A charge is
 * taken on several budgets together (a connection's and its class's) or on none of them.
 *
 * Three ways to take bytes:
 * - `tryCharge`: all or nothing, at once. A unary call that does not fit is refused.
 * - `waitCharge`: waits until it fits. Streams use it before reading the next message, and
 *   hold nothing of the budget while they wait, so waiters cannot deadlock one another.
 * - `forceCharge`: always succeeds, and may overdraw. Used for bytes that already exist (a
 *   response being written, the decoded size of a stream message that already arrived); an
 *   overdrawn budget refuses and holds back everything new until it is back under its limit.
 *
 * A charge always fits an empty budget, so one request larger than a limit is served alone
 * instead of never; a raw unary body charged chunk by chunk may also complete its own charge
 * when it is the only holder (`tryCharge(n, true)`). Streams never get that exemption for their
 * later messages, or one long-lived stream alone could grow without bound.
 */

/** One limit; see the module comment. */
export class ByteBudget {
  readonly name: string;
  readonly limit: number;
  private usedBytes = 0;
  private waiters = new Set<() => void>();

  constructor(name: string, limit: number) {
    this.name = name;
    this.limit = limit;
  }

  /** Bytes held now (may exceed `limit` after a forced charge). */
  get used(): number {
    return this.usedBytes;
  }

  /** Bytes left before the limit (0 when overdrawn). */
  get free(): number {
    return Math.max(0, this.limit - this.usedBytes);
  }

  /** Whether `bytes` more fit: room left, or nothing held but `own` (the asker's bytes). */
  fits(bytes: number, own = 0): boolean {
    return this.usedBytes + bytes <= this.limit || this.usedBytes <= own;
  }

  /** @internal Use the functions below, which charge several budgets together. */
  add(bytes: number): void {
    this.usedBytes += bytes;
  }

  /** @internal */
  sub(bytes: number): void {
    this.usedBytes -= bytes;
    if (this.usedBytes < 0) {
      throw new Error(`byte budget ${this.name} accounting broke: ${this.usedBytes} bytes held`);
    }
    if (this.waiters.size > 0) {
      const ws = [...this.waiters];
      this.waiters.clear();
      for (const w of ws) w();
    }
  }

  /** @internal Calls `w` once, at the next release. */
  onRelease(w: () => void): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }
}

/**
 * Bytes held on a set of budgets by one owner (a request). Releasing is idempotent past zero:
 * whatever path ends the request first gives everything back, later releases are no-ops.
 */
export class Charge {
  readonly budgets: readonly ByteBudget[];
  private heldBytes = 0;

  constructor(budgets: readonly ByteBudget[]) {
    this.budgets = budgets;
  }

  get held(): number {
    return this.heldBytes;
  }

  /**
   * Takes `bytes` if every budget has room, or is empty; with `alone`, also if this charge is
   * all a budget holds.
   */
  tryCharge(bytes: number, alone = false): boolean {
    if (bytes <= 0) return true;
    const own = alone ? this.heldBytes : 0;
    for (const b of this.budgets) if (!b.fits(bytes, own)) return false;
    this.take(bytes);
    return true;
  }

  /** Takes `bytes` even past the limits. */
  forceCharge(bytes: number): void {
    if (bytes > 0) this.take(bytes);
  }

  /**
   * Waits until `bytes` fit, then takes them. Rejects with the signal's reason if it aborts
   * first.
   */
  async waitCharge(bytes: number, signal: AbortSignal): Promise<void> {
    while (!this.tryCharge(bytes)) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const offs: (() => void)[] = [];
        const done = (): void => {
          for (const off of offs) off();
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          for (const off of offs) off();
          reject(signal.reason);
        };
        for (const b of this.budgets) offs.push(b.onRelease(done));
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  /** Gives back up to `bytes` (no more than is held). */
  release(bytes: number): void {
    const n = Math.min(bytes, this.heldBytes);
    if (n <= 0) return;
    this.heldBytes -= n;
    for (const b of this.budgets) b.sub(n);
  }

  releaseAll(): void {
    this.release(this.heldBytes);
  }

  private take(bytes: number): void {
    this.heldBytes += bytes;
    for (const b of this.budgets) b.add(bytes);
  }
}
