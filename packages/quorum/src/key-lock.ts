/**
 * Per-key mutual exclusion in one process. The coordinator holds it while it reads its own copy,
 * derives the new version and stores it: two writes of one key coordinated here at the same time
 * would otherwise both read counter c and both hand out the dot (self, c + 1) for different
 * values, and replicas keep only one of two versions with the same dot.
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Keys currently locked or waited for. */
  get size(): number {
    return this.tails.size;
  }

  /**
   * Resolves with a release function once the caller holds the lock for `id`. Rejects with
   * `onAbort()` if `signal` aborts first (the caller then never holds it). `signal` may be a
   * function that returns it: it is then called only if the caller has to wait (nobody holds
   * the lock: granted without looking at any signal), so an uncontended lock costs no
   * AbortSignal; such a caller checks for itself that it has not given up before asking.
   */
  acquire(
    id: string,
    signalOrGetter: AbortSignal | (() => AbortSignal),
    onAbort: () => Error,
  ): Promise<() => void> {
    const held = this.tails.get(id);
    if (held === undefined && typeof signalOrGetter === "function") {
      let releaseSlot!: () => void;
      const slot = new Promise<void>((resolve) => {
        releaseSlot = resolve;
      });
      this.tails.set(id, slot);
      void slot.then(() => {
        if (this.tails.get(id) === slot) this.tails.delete(id);
      });
      let released = false;
      return Promise.resolve(() => {
        if (released) return;
        released = true;
        releaseSlot();
      });
    }
    const signal = typeof signalOrGetter === "function" ? signalOrGetter() : signalOrGetter;
    const prev = held ?? Promise.resolve();
    let releaseSlot!: () => void;
    const slot = new Promise<void>((resolve) => {
      releaseSlot = resolve;
    });
    const tail = prev.then(() => slot);
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      releaseSlot();
    };
    return new Promise<() => void>((resolve, reject) => {
      if (signal.aborted) {
        // Our slot is already chained: free it as soon as it comes up.
        void prev.then(release);
        reject(onAbort());
        return;
      }
      const abort = () => {
        void prev.then(release);
        reject(onAbort());
      };
      signal.addEventListener("abort", abort, { once: true });
      void prev.then(() => {
        signal.removeEventListener("abort", abort);
        if (signal.aborted) {
          release();
          return;
        }
        resolve(release);
      });
    });
  }
}
